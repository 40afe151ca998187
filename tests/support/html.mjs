// HTML for the JavaScript test suites that drive Gatehouse over plain HTTP (interop, upstream):
// entities, visible page text and the forms of a page.

export function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|quot|lt|gt|apos|nbsp);/gi, (_, e) => {
    const lower = e.toLowerCase();
    if (lower === 'amp') return '&';
    if (lower === 'quot') return '"';
    if (lower === 'lt') return '<';
    if (lower === 'gt') return '>';
    if (lower === 'apos') return "'";
    if (lower === 'nbsp') return ' ';
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    return String.fromCodePoint(parseInt(lower.slice(1), 10));
  });
}

function parseAttributes(text) {
  const attrs = {};
  for (const m of text.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** Visible text of an HTML page, tags stripped and whitespace collapsed. */
export function pageText(html) {
  const body = html.replace(/<(style|script|title)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  return decodeEntities(body).replace(/\s+/g, ' ').trim();
}

/**
 * The forms of a page: { action, method, inputs: [{ name, type, value }], fields: {name: value}
 * (what submitting sends, without buttons), hidden: {name: value} (the hidden inputs),
 * buttons: [{ name, value, text }], text }.
 */
export function parseForms(html) {
  const forms = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = parseAttributes(match[1]);
    const inputs = [];
    const buttons = [];
    for (const input of match[2].matchAll(/<input\b([^>]*)>/gi)) {
      const a = parseAttributes(input[1]);
      const type = (a.type ?? 'text').toLowerCase();
      if (type === 'submit') {
        buttons.push({ name: a.name, value: a.value ?? '', text: a.value ?? '' });
        continue;
      }
      if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
      inputs.push({ name: a.name, type, value: a.value ?? '', attrs: a });
    }
    for (const b of match[2].matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
      const a = parseAttributes(b[1]);
      if ((a.type ?? 'submit').toLowerCase() !== 'submit') continue;
      buttons.push({ name: a.name, value: a.value ?? '', text: pageText(b[2]) });
    }
    const fields = {};
    for (const i of inputs) if (i.name) fields[i.name] = i.value;
    const hidden = {};
    for (const i of inputs) if (i.name && i.type === 'hidden') hidden[i.name] = i.value;
    forms.push({
      action: attrs.action ?? '',
      method: (attrs.method ?? 'get').toLowerCase(),
      inputs,
      fields,
      hidden,
      buttons,
      text: pageText(match[2]),
    });
  }
  return forms;
}
