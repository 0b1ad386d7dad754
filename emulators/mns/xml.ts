/**
 * Just enough XML for MNS: a strict little parser (elements, attributes, text, entities, CDATA; namespace prefixes
 * dropped) that refuses what a real XML parser refuses — notably a bare `&` or `<` in text, which is what
 * @alicloud/mns produces for unescaped bodies — and an escaper for responses.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME_RE = /[A-Za-z_][\w.:-]*/y;
const ATTR_RE = /\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/y;

function decodeEntities(raw: string, at: number): string {
  if (!raw.includes('&')) {
    if (raw.includes('<')) throw new XmlSyntaxError(`'<' in text at ${at}`);
    return raw;
  }
  return raw.replace(/&([^;&\s]{0,10});?/g, (all, ent: string) => {
    if (!all.endsWith(';')) throw new XmlSyntaxError(`bare '&' in text at ${at}`);
    const named = NAMED[ent];
    if (named) return named;
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ent);
    if (!m) throw new XmlSyntaxError(`unknown entity &${ent}; at ${at}`);
    const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number.parseInt(m[2] ?? '', 10);
    if (!Number.isFinite(code) || code > 0x10ffff) throw new XmlSyntaxError(`bad character reference at ${at}`);
    return String.fromCodePoint(code);
  });
}

function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

/** Parses a document and returns its root element. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const n = src.length;

  function skipMisc(): void {
    for (;;) {
      while (i < n && /\s/.test(src[i] ?? '')) i++;
      if (src.startsWith('<?', i)) {
        const end = src.indexOf('?>', i);
        if (end < 0) throw new XmlSyntaxError('unterminated declaration');
        i = end + 2;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) throw new XmlSyntaxError('unterminated comment');
        i = end + 3;
      } else return;
    }
  }

  function readName(): string {
    NAME_RE.lastIndex = i;
    const m = NAME_RE.exec(src);
    if (!m) throw new XmlSyntaxError(`expected a name at ${i}`);
    i += m[0].length;
    return m[0];
  }

  function element(): XmlElement {
    if (src[i] !== '<') throw new XmlSyntaxError(`expected '<' at ${i}`);
    i++;
    const rawName = readName();
    const el: XmlElement = { name: localName(rawName), attrs: {}, children: [], text: '' };
    for (;;) {
      ATTR_RE.lastIndex = i;
      const m = ATTR_RE.exec(src);
      if (!m) break;
      el.attrs[m[1] ?? ''] = decodeEntities(m[3] ?? m[4] ?? '', i);
      i += m[0].length;
    }
    while (i < n && /\s/.test(src[i] ?? '')) i++;
    if (src.startsWith('/>', i)) {
      i += 2;
      return el;
    }
    if (src[i] !== '>') throw new XmlSyntaxError(`malformed start tag <${rawName}> at ${i}`);
    i++;
    let text = '';
    for (;;) {
      if (i >= n) throw new XmlSyntaxError(`unclosed <${rawName}>`);
      const lt = src.indexOf('<', i);
      if (lt < 0) throw new XmlSyntaxError(`unclosed <${rawName}>`);
      if (lt > i) text += decodeEntities(src.slice(i, lt), i);
      i = lt;
      if (src.startsWith('</', i)) {
        i += 2;
        const close = readName();
        if (close !== rawName) throw new XmlSyntaxError(`</${close}> closes <${rawName}> at ${i}`);
        while (i < n && /\s/.test(src[i] ?? '')) i++;
        if (src[i] !== '>') throw new XmlSyntaxError(`malformed end tag at ${i}`);
        i++;
        el.text = text;
        return el;
      }
      if (src.startsWith('<![CDATA[', i)) {
        const end = src.indexOf(']]>', i);
        if (end < 0) throw new XmlSyntaxError('unterminated CDATA');
        text += src.slice(i + 9, end);
        i = end + 3;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end < 0) throw new XmlSyntaxError('unterminated comment');
        i = end + 3;
      } else {
        el.children.push(element());
      }
    }
  }

  skipMisc();
  const root = element();
  skipMisc();
  if (i < n) throw new XmlSyntaxError(`content after the root element at ${i}`);
  return root;
}

/** The text of the first child with that (local) name. */
export function childText(el: XmlElement, name: string): string | undefined {
  return el.children.find((c) => c.name === name)?.text;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : c === "'" ? '&apos;' : '&#13;',
  );
}

export const MNS_NS = 'http://mns.aliyuncs.com/doc/v1/';

/** `<?xml…?><Root xmlns="…">…</Root>` from already-escaped inner XML. */
export function document(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${MNS_NS}">${inner}</${root}>`;
}

/** `<K>escaped v</K>` for each entry. */
export function fields(obj: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out += `<${k}>${escapeXml(String(v))}</${k}>`;
  return out;
}
