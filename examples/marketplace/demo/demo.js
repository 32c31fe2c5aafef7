// Parley's demo inbox: plain JavaScript over the public HTTP API (seed
// 000's dialect) and its event stream. Every text from the API is put in
// the page with textContent, never as HTML.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const token = params.get('as') || $('who').options[0].value;
  $('who').value = token;
  $('who').addEventListener('change', () => { location.search = '?as=' + encodeURIComponent($('who').value); });

  const isUser = token.startsWith('demo-user-') || token.startsWith('demo-guest-');
  const base = isUser ? '/users' : '/api/v1/remote/1';
  const mySide = isUser ? 'user' : 'datasource';

  let convs = [];        // the inbox, as the API lists it
  let openId = 0;        // the open conversation
  let messages = [];     // its messages, oldest first
  let readUpTo = 0;      // the other side has read my messages up to this id
  let markedUpTo = 0;    // what this page last marked read

  // Operations run one after the other, so that two events do not fetch
  // the same messages twice.
  let chain = Promise.resolve();
  const queue = (fn) => { chain = chain.then(fn).catch(showError); return chain; };

  function showError(e) { $('error').textContent = e ? String(e.message || e) : ''; }

  async function api(method, path, body) {
    const headers = { 'Authorization': 'Token ' + token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + text);
    return data;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function partyName(c) {
    if (isUser) {
      const d = c.datasource || {};
      return d.name || ('Shop ' + (d.pk ?? ''));
    }
    const u = c.user || {};
    const name = [u.first_name, u.last_name].filter(Boolean).join(' ');
    return name || ('User ' + (u.id ?? ''));
  }

  function renderInbox() {
    const ul = $('conversations');
    ul.replaceChildren();
    for (const c of convs) {
      const li = el('li', 'conv' + (c.id === openId ? ' open' : ''));
      li.dataset.id = c.id;
      li.append(el('span', 'who', partyName(c) + (c.status === 'closed' ? ' (closed)' : '')));
      const n = c.unread_count || 0;
      const badge = el('span', 'badge', n);
      badge.dataset.count = n;
      li.append(badge);
      const last = (c.message_set || [])[(c.message_set || []).length - 1];
      li.append(el('span', 'preview', last ? last.message_content : ''));
      li.addEventListener('click', () => queue(() => openConversation(c.id)));
      ul.append(li);
    }
  }

  async function loadInbox() {
    const page = await api('GET', '/conversations/?page_size=50');
    convs = page.results || [];
    renderInbox();
    const u = await api('GET', '/unread/');
    $('totals').textContent = u.messages + ' unread in ' + u.conversations + ' conversation' + (u.conversations === 1 ? '' : 's');
    $('totals').dataset.messages = u.messages;
  }

  function renderMessages() {
    const ol = $('messages');
    ol.replaceChildren();
    for (const m of messages) {
      const mine = m.content_type === mySide;
      const li = el('li', 'msg' + (mine ? ' mine' : ''), m.message_content);
      li.dataset.id = m.id;
      if (mine) li.dataset.read = String(m.id <= readUpTo);
      li.append(el('span', 'meta', new Date(m.created_date).toLocaleTimeString()));
      ol.append(li);
    }
    ol.lastElementChild?.scrollIntoView({ block: 'end' });
  }

  async function openConversation(id) {
    openId = id;
    messages = [];
    readUpTo = 0;
    markedUpTo = 0;
    const c = convs.find((x) => x.id === id);
    $('thread-title').textContent = c ? partyName(c) + (c.subject ? ': ' + c.subject : '') : 'Conversation ' + id;
    $('composer').hidden = false;
    const page = await api('GET', '/messages/?conversation=' + id + '&page_size=50');
    messages = (page.results || []).slice().reverse();
    renderMessages();
    await markRead();
  }

  // newMessages fetches the open conversation's messages after the last
  // one shown.
  async function newMessages() {
    if (!openId) return;
    const last = messages.length ? messages[messages.length - 1].id : 0;
    const page = await api('GET', '/messages/?conversation=' + openId + '&after=' + last + '&page_size=50');
    for (const m of page.results || []) {
      if (!messages.some((x) => x.id === m.id)) messages.push(m);
    }
    renderMessages();
    await markRead();
  }

  // markRead marks the open conversation read up to its last message.
  async function markRead() {
    const last = messages.length ? messages[messages.length - 1].id : 0;
    if (last > markedUpTo) {
      markedUpTo = last;
      await api('POST', '/conversations/' + openId + '/read/', { message: last });
    }
    await loadInbox();
  }

  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value;
    if (!text.trim() || !openId) return;
    $('text').value = '';
    queue(async () => {
      showError(null);
      await api('POST', '/messages/', { conversation: openId, message_content: text });
      await newMessages();
    });
  });

  function handle(kind, d) {
    switch (kind) {
      case 'ready':
        $('live').dataset.state = 'live';
        $('live').textContent = 'live';
        return;
      case 'reload':
        queue(async () => { await loadInbox(); if (openId) await openConversation(openId); });
        return;
      case 'message.posted':
        queue(d.conversation === openId ? newMessages : loadInbox);
        return;
      case 'conversation.read':
        if (d.content_type !== mySide && d.conversation === openId) {
          readUpTo = Math.max(readUpTo, d.message || 0);
          renderMessages();
        } else {
          queue(loadInbox);
        }
        return;
      default: // conversation.started, conversation.status
        queue(loadInbox);
    }
  }

  // stream reads the event stream with fetch (so that it can send the
  // Authorization header), and reconnects with Last-Event-ID.
  async function stream() {
    let lastId = null;
    for (;;) {
      try {
        const headers = { 'Authorization': 'Token ' + token, 'Accept': 'text/event-stream' };
        if (lastId !== null) headers['Last-Event-ID'] = lastId;
        const res = await fetch(base + '/events/', { headers });
        if (!res.ok) throw new Error('event stream: ' + res.status);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true });
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let id = null, event = 'message', data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue; // a heartbeat
              const i = line.indexOf(':');
              const field = i < 0 ? line : line.slice(0, i);
              let v = i < 0 ? '' : line.slice(i + 1);
              if (v.startsWith(' ')) v = v.slice(1);
              if (field === 'id') id = v;
              else if (field === 'event') event = v;
              else if (field === 'data') data += v;
            }
            if (id !== null) lastId = id;
            if (data) handle(event, JSON.parse(data));
          }
        }
      } catch (e) {
        showError(e);
      }
      $('live').dataset.state = 'connecting';
      $('live').textContent = 'reconnecting…';
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  queue(loadInbox);
  stream();
})();
