#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Writes the service desk's inbound mail corpus (this directory).

    python3 make_corpus.py      # rewrites NNN-*.eml, manifest.tsv, README.md
    python3 check_corpus.py     # validates what was written

Deterministic (no clock, no randomness): a second run writes the same bytes.
Python 3 standard library only.  All people, companies and addresses are made
up; every domain is an example domain.

The mails are assembled by small "client" functions that copy the header sets
and MIME structures of real mail programs (Outlook/Exchange, Gmail, Apple
Mail, iPhone, Thunderbird, Mutt, Yahoo, Naver, Daum, Becky!, Foxmail, QQ, ...)
and by the scenario code further down, which decides the order of ingest and
writes the manifest rows.
"""
import base64
import hashlib
import html
import os
import quopri
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# deterministic helpers


def rnd(seed, n=32, alphabet='0123456789abcdef'):
    out, i = '', 0
    while len(out) < n:
        d = hashlib.sha256(('%s/%d' % (seed, i)).encode()).digest()
        i += 1
        out += ''.join(alphabet[b % len(alphabet)] for b in d)
    return out[:n]


B64A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
UPHEX = '0123456789ABCDEF'


def uuid_like(seed, upper=False):
    h = rnd(seed, 32)
    s = '%s-%s-4%s-a%s-%s' % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])
    return s.upper() if upper else s


CLOCK = [datetime(2026, 11, 2, 7, 12, 5, tzinfo=timezone.utc)]


def tick(minutes=23):
    CLOCK[0] = CLOCK[0] + timedelta(minutes=minutes, seconds=(minutes * 7) % 53)
    return CLOCK[0]


def now():
    return CLOCK[0]


def tzd(dt, tz):
    return dt.astimezone(timezone(timedelta(hours=tz)))


def rfcdate(dt, tz=0, pad=True):
    s = format_datetime(tzd(dt, tz))
    if not pad:  # "Mon, 2 Nov 2026 ..." as many clients write it
        s = s[:5] + s[5:].lstrip('0')
    return s


# placeholders substituted by the C++ test
def OUT(t):
    return '{{out:%s}}' % t


def TOK(t):
    return '{{token:%s}}' % t


def NUM(t):
    return '{{number:%s}}' % t


# --------------------------------------------------------------------------
# encoders


def h8(text, cs):
    """Text as raw bytes in charset cs, carried in a latin-1 str."""
    return text.encode(cs).decode('latin-1')


def b64lines(data):
    s = base64.b64encode(data).decode('ascii')
    return '\n'.join(s[i:i + 76] for i in range(0, len(s), 76)) + '\n'


def qp(text, cs):
    assert '{{' not in text, 'placeholder inside quoted-printable text'
    return quopri.encodestring(text.encode(cs)).decode('ascii')


def is_ascii(s):
    try:
        s.encode('ascii')
        return True
    except UnicodeEncodeError:
        return False


def ew(text, cs='UTF-8', enc='B', maxlen=75):
    """RFC 2047 encoded words, split so no character is cut, folded."""
    assert '{{' not in text, 'placeholder inside an encoded word'
    words, chunk = [], ''

    def enc1(s):
        b = s.encode(cs)
        if enc.upper() == 'B':
            return '=?%s?%s?%s?=' % (cs, enc, base64.b64encode(b).decode())
        q = ''
        for c in b:
            ch = chr(c)
            if c == 32:
                q += '_'
            elif c < 128 and (ch.isalnum() or ch in '!*+-/'):
                q += ch
            else:
                q += '=%02X' % c
        return '=?%s?%s?%s?=' % (cs, enc, q)
    for ch in text:
        if chunk and len(enc1(chunk + ch)) > maxlen:
            words.append(enc1(chunk))
            chunk = ''
        chunk += ch
    if chunk:
        words.append(enc1(chunk))
    return '\n '.join(words)


def subj(text, cs='UTF-8', enc='B'):
    if not is_ascii(text):
        return ew(text, cs, enc)
    if len(text) <= 68:
        return text
    # fold a long ASCII subject at spaces (continuation lines start with a space)
    lines, cur = [], ''
    for w in text.split(' '):
        if cur and len(cur) + 1 + len(w) > 68:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + ' ' + w) if cur else w
    lines.append(cur)
    return '\n '.join(lines)


# --------------------------------------------------------------------------
# people


class P:
    def __init__(self, name, addr, cs='UTF-8', enc='B', quote=False):
        self.name, self.addr, self.cs, self.enc, self.quote = name, addr, cs, enc, quote

    def h(self, style='plain'):
        """The address as a header value."""
        if not self.name:
            return self.addr
        if not is_ascii(self.name):
            return '%s <%s>' % (ew(self.name, self.cs, self.enc), self.addr)
        if self.quote or any(c in self.name for c in ',.()@:;'):
            return '"%s" <%s>' % (self.name, self.addr)
        return '%s <%s>' % (self.name, self.addr)

    def t(self):
        """The address as a body shows it."""
        return '%s <%s>' % (self.name, self.addr) if self.name else self.addr

    @property
    def first(self):
        return self.name.split()[0] if self.name else self.addr.split('@')[0]

    @property
    def domain(self):
        return self.addr.split('@')[1]


DESK = P('Desk Support', 'support@desk.example')
SUPPORT = P(None, 'support@desk.example')
SUPPORT_Q = P('support@desk.example', 'support@desk.example', quote=True)  # as Outlook writes it


def hlist(people):
    return ',\n '.join(p.h() if isinstance(p, P) else p for p in people) if len(people) > 2 else \
        ', '.join(p.h() if isinstance(p, P) else p for p in people)


# --------------------------------------------------------------------------
# MIME assembly


class Part:
    def __init__(self, headers, body):
        self.headers, self.body = headers, body

    def render(self):
        return ''.join('%s: %s\n' % (k, v) for k, v in self.headers if v is not None) + '\n' + self.body


def text(ctype, content, cs='utf-8', cte='quoted-printable', extra=()):
    """A text leaf.  A part that carries a placeholder is never encoded."""
    if '{{' in content:
        cte = '7bit' if is_ascii(content) else '8bit'
    if cte and cte.lower() == 'quoted-printable':
        body = qp(content, cs)
    elif cte and cte.lower() == 'base64':
        body = b64lines(content.encode(cs))
    else:
        body = h8(content, cs)
        if cte in ('7bit', None) and not is_ascii(body):
            cte = '8bit'
    if not body.endswith('\n'):
        body += '\n'
    hs = [('Content-Type', ctype)]
    if cte:
        hs.append(('Content-Transfer-Encoding', cte))
    return Part(hs + list(extra), body)


def binpart(ctype, data, disp=None, cid=None, extra=(), cte='base64'):
    hs = [('Content-Type', ctype)]
    if disp:
        hs.append(('Content-Disposition', disp))
    hs.append(('Content-Transfer-Encoding', cte))
    if cid:
        hs.append(('Content-ID', '<%s>' % cid))
    return Part(hs + list(extra), b64lines(data) if cte == 'base64' else data)


def multi(sub, boundary, parts, params='', preamble=None, fold=False, extra=()):
    body = ''
    if preamble:
        body += preamble + '\n\n'
    for p in parts:
        body += '--%s\n' % boundary + p.render() + '\n'
    body += '--%s--\n' % boundary
    sep = ';\n\t' if fold else '; '
    return Part([('Content-Type', 'multipart/%s%sboundary="%s"%s' % (sub, sep, boundary, params))] + list(extra), body)


def mail(headers, root):
    return ''.join('%s: %s\n' % (k, v) for k, v in headers if v is not None) + root.render()


# tiny binary attachments -------------------------------------------------

PNG_1PX = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')


def tiny_pdf(title):
    body = ('%%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n'
            '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n'
            '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R>>endobj\n'
            '4 0 obj<</Length 44>>stream\nBT /F1 10 Tf 10 50 Td (%s) Tj ET\nendstream endobj\n'
            'trailer<</Root 1 0 R>>\n%%%%EOF\n') % title[:20]
    return body.encode('latin-1')


def tnef_blob(seed):
    # TNEF signature 0x223E9F78, a key, then a few attribute records (dummy)
    return bytes([0x78, 0x9f, 0x3e, 0x22, 0x01, 0x00]) + hashlib.sha256(seed.encode()).digest() * 3


def pkcs7_blob(seed):
    # a DER SEQUENCE header with dummy content; not a valid signature
    inner = hashlib.sha512(seed.encode()).digest() * 4
    return bytes([0x30, 0x82, len(inner) >> 8, len(inner) & 0xff]) + inner


# --------------------------------------------------------------------------
# transport headers written by the sending side and by our MX


def rcv_ours(dt, host, ip, qid_seed, tls=True):
    qid = rnd(qid_seed, 12, ALNUM)
    return ('Received', 'from %s (%s [%s])\n\tby mx1.desk.example (Postfix) with %s id 4%s\n\tfor <support@desk.example>; %s'
            % (host, host, ip, 'ESMTPS' if tls else 'ESMTP', qid, rfcdate(dt + timedelta(seconds=3), 0) + ' (UTC)'))


def top(rp, dt, host, ip, seed, extra=(), tls=True):
    hs = [('Return-Path', '<%s>' % rp if rp else '<>'),
          ('Delivered-To', 'support@desk.example'),
          rcv_ours(dt, host, ip, seed, tls)]
    return hs + list(extra)


# --------------------------------------------------------------------------
# quotes


class Q:
    """Something a reply quotes: author, date, text (and header fields for Outlook)."""

    def __init__(self, author, dt, body, to=(), cc=(), subject=''):
        self.author, self.dt, self.body, self.to, self.cc, self.subject = author, dt, body, list(to), list(cc), subject


def gt(textblock, prefix='> '):
    return '\n'.join((prefix + l) if l else prefix.rstrip() for l in textblock.split('\n'))


def paras_html(textblock, tag='div', cls=None):
    out = []
    for line in textblock.split('\n'):
        c = ' class="%s"' % cls if cls else ''
        out.append('<%s%s>%s</%s>' % (tag, c, html.escape(line, quote=False) if line else '<br>', tag))
    return '\n'.join(out)


EN_DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']
EN_MON = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
          'October', 'November', 'December']


def en_long(dt):  # Monday, November 2, 2026 4:12 PM
    h = dt.hour % 12 or 12
    return '%s, %s %d, %d %d:%02d %s' % (EN_DAYS[dt.weekday()], EN_MON[dt.month - 1], dt.day, dt.year, h,
                                         dt.minute, 'AM' if dt.hour < 12 else 'PM')


def en_gmail(dt):  # Mon, Nov 2, 2026 at 4:12 PM
    h = dt.hour % 12 or 12
    return '%s, %s %d, %d at %d:%02d %s' % (EN_DAYS[dt.weekday()][:3], EN_MON[dt.month - 1][:3], dt.day,
                                            dt.year, h, dt.minute, 'AM' if dt.hour < 12 else 'PM')


def de_long(dt):
    days = ['Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag', 'Sonntag']
    mon = ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober',
           'November', 'Dezember']
    return '%s, %d. %s %d %02d:%02d' % (days[dt.weekday()], dt.day, mon[dt.month - 1], dt.year, dt.hour, dt.minute)


def sv_long(dt):
    mon = ['januari', 'februari', 'mars', 'april', 'maj', 'juni', 'juli', 'augusti', 'september', 'oktober',
           'november', 'december']
    return 'den %d %s %d %02d:%02d' % (dt.day, mon[dt.month - 1], dt.year, dt.hour, dt.minute)


def fr_long(dt):
    days = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche']
    mon = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre',
           'novembre', 'décembre']
    return '%s %d %s %d %02d:%02d' % (days[dt.weekday()], dt.day, mon[dt.month - 1], dt.year, dt.hour, dt.minute)


def es_long(dt):
    days = ['lunes', 'martes', 'miércoles', 'jueves', 'viernes', 'sábado', 'domingo']
    mon = ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre',
           'noviembre', 'diciembre']
    return '%s, %d de %s de %d %02d:%02d' % (days[dt.weekday()], dt.day, mon[dt.month - 1], dt.year, dt.hour,
                                            dt.minute)


def ko_long(dt):
    days = ['월요일', '화요일', '수요일', '목요일', '금요일', '토요일', '일요일']
    h = dt.hour % 12 or 12
    return '%d년 %d월 %d일 %s %s %d:%02d' % (dt.year, dt.month, dt.day, days[dt.weekday()],
                                          '오전' if dt.hour < 12 else '오후', h, dt.minute)


def ko_gmail(dt):
    days = '월화수목금토일'
    h = dt.hour % 12 or 12
    return '%d년 %d월 %d일 (%s) %s %d:%02d' % (dt.year, dt.month, dt.day, days[dt.weekday()],
                                            '오전' if dt.hour < 12 else '오후', h, dt.minute)


OUTLOOK_LABELS = {
    'en': ('From:', 'Sent:', 'To:', 'Cc:', 'Subject:', en_long),
    'de': ('Von:', 'Gesendet:', 'An:', 'Cc:', 'Betreff:', de_long),
    'sv': ('Från:', 'Skickat:', 'Till:', 'Kopia:', 'Ämne:', sv_long),
    'fr': ('De :', 'Envoyé :', 'À :', 'Cc :', 'Objet :', fr_long),
    'es': ('De:', 'Enviado el:', 'Para:', 'CC:', 'Asunto:', es_long),
    'ko': ('보낸 사람:', '보낸 날짜:', '받는 사람:', '참조:', '제목:', ko_long),
}


def outlook_quote_plain(q, lang, tz, sep=False):
    f, s, t, c, sb, dfn = OUTLOOK_LABELS[lang]
    lines = []
    if sep:
        lines.append('_' * 32)
    lines.append('%s %s' % (f, q.author.t()))
    lines.append('%s %s' % (s, dfn(tzd(q.dt, tz))))
    lines.append('%s %s' % (t, '; '.join(p.t() for p in q.to)))
    if q.cc:
        lines.append('%s %s' % (c, '; '.join(p.t() for p in q.cc)))
    lines.append('%s %s' % (sb, q.subject))
    return '\n'.join(lines) + '\n\n' + q.body


def outlook_quote_html(q, lang, tz):
    f, s, t, c, sb, dfn = OUTLOOK_LABELS[lang]
    e = lambda x: html.escape(x, quote=False)
    rows = ['<b>%s</b> %s<br>' % (f, e(q.author.t())),
            '<b>%s</b> %s<br>' % (s, e(dfn(tzd(q.dt, tz)))),
            '<b>%s</b> %s<br>' % (t, e('; '.join(p.t() for p in q.to)))]
    if q.cc:
        rows.append('<b>%s</b> %s<br>' % (c, e('; '.join(p.t() for p in q.cc))))
    rows.append('<b>%s</b> %s<o:p></o:p></p>' % (sb, e(q.subject)))
    return ('<div>\n<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">\n'
            '<p class="MsoNormal">' + '\n'.join(rows) + '\n</div>\n</div>\n'
            '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n' + paras_html(q.body, 'p', 'MsoNormal')
            .replace('</p>', '<o:p></o:p></p>') + '\n')


# --------------------------------------------------------------------------
# clients
#
# Every client takes: frm (P), subject (str, unencoded), body (new text),
# dt, seed; and optionally to, cc, irt (id without brackets or None),
# refs (list of ids), q (Q), atts (list of Part), tz, mid (override),
# extra (headers appended), rp (Return-Path, default frm.addr).


def _ids(ids):
    return '\n '.join('<%s>' % i for i in ids) if len(ids) > 2 else ' '.join('<%s>' % i for i in ids)


def outlook(frm, subject, body, dt, seed, to=(SUPPORT_Q,), cc=(), irt=None, refs=None, q=None, atts=(), tz=1,
            lang='en', cs='us-ascii', sep=False, mid=None, extra=(), rp=None, html_only=False, topic=None,
            related=None, plain_only=False):
    srv = rnd(seed + 'srv', 4, UPHEX)
    region = ['eurprd0%d' % (int(srv[0], 16) % 9 + 1), 'namprd1%d' % (int(srv[1], 16) % 9)][int(srv[2], 16) % 2]
    host = '%s%sPR0%sMB%s' % (['AM', 'DB', 'VI', 'PA', 'GV'][int(srv[0], 16) % 5], str(int(srv[1], 16) % 9 + 1),
                              str(int(srv[2], 16) % 9 + 1), str(1000 + int(srv, 16) % 9000))
    mid = mid or '%s%s@%s.%s.prod.outlook.example' % (host, rnd(seed, 28, UPHEX), host, region)
    lt = lang if lang in OUTLOOK_LABELS else 'en'
    plain = body
    hbody = paras_html(body, 'p', 'MsoNormal').replace('</p>', '<o:p></o:p></p>')
    if q:
        plain += '\n\n' + outlook_quote_plain(q, lt, tz, sep)
        hbody += '\n<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n' + outlook_quote_html(q, lt, tz)
    langtag = {'en': 'EN-US', 'de': 'DE', 'sv': 'SV', 'fr': 'FR', 'es': 'ES', 'ko': 'KO'}[lt]
    htmldoc = ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
               'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
               'xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
               '<meta http-equiv="Content-Type" content="text/html; charset=%s">\n'
               '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
               '<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:"Cambria Math";\n\tpanose-1:2 4 5 3 5 4 6 3 2 4;}\n'
               '@font-face\n\t{font-family:Calibri;\n\tpanose-1:2 15 5 2 2 2 4 3 2 4;}\n'
               '/* Style Definitions */\np.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;\n'
               '\tfont-family:"Calibri",sans-serif;\n\tmso-ligatures:standardcontextual;}\n'
               'span.EmailStyle19\n\t{mso-style-type:personal-reply;\n\tfont-family:"Calibri",sans-serif;\n\tcolor:windowtext;}\n'
               '@page WordSection1\n\t{size:612.0pt 792.0pt;\n\tmargin:70.85pt 70.85pt 2.0cm 70.85pt;}\n'
               'div.WordSection1\n\t{page:WordSection1;}\n--></style>\n</head>\n'
               '<body lang="%s" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">\n'
               '<div class="WordSection1">\n%s\n</div>\n</body>\n</html>\n') % (cs, langtag, hbody)
    b = '_000_%s%s_' % (host, rnd(seed + 'b', 28, UPHEX))
    cte = 'base64' if cs.lower() == 'ks_c_5601-1987' else 'quoted-printable'
    tp = text('text/plain; charset="%s"' % cs, plain, cs, cte)
    hp = text('text/html; charset="%s"' % cs, htmldoc, cs, cte)
    if html_only:
        root = hp
    elif plain_only:
        root = tp
    else:
        root = multi('alternative', b, [tp, hp])
    if related:  # inline images: multipart/related around the alternative
        root = multi('related', '_004_%s%s_' % (host, rnd(seed + 'r', 28, UPHEX)), [root] + list(related),
                     params='; type="multipart/alternative"')
    if atts:
        root = multi('mixed', '_005_%s%s_' % (host, rnd(seed + 'm', 28, UPHEX)), [root] + list(atts))
    tindex = base64.b64encode(bytes.fromhex(rnd(seed + 'ti', 44))).decode()
    topic = topic if topic is not None else subject.split(': ', 1)[-1] if subject[:4].upper() in (
        'RE: ', 'AW: ', 'SV: ', 'TR: ', 'FW: ', 'WG: ') or subject[:3] == 'R: ' else subject
    hs = top(rp or frm.addr, dt, '%s.outbound.protection.outlook.example' % host.lower()[:10], '203.0.113.%d' % (
        int(srv[:2], 16) % 250 + 2), seed) + [
        ('Received', 'from %s.%s.prod.outlook.example ([fe80::%s]) by\n %s.%s.prod.outlook.example ([fe80::%s%%4]) with '
         'mapi id 15.20.8%s.0%s; %s' % (host, region, rnd(seed + 'ip', 4), host, region, rnd(seed + 'ip', 4),
                                       rnd(seed + 'v', 3, '0123456789'), rnd(seed + 'v2', 2, '0123456789'),
                                       rfcdate(dt, 0)))]
    hs += [('From', frm.h()),
           ('To', hlist(to)),
           ('CC', hlist(cc) if cc else None),
           ('Subject', subj(subject, 'utf-8' if cs.lower() in ('us-ascii', 'utf-8') else cs)),
           ('Thread-Topic', subj(topic, 'utf-8' if cs.lower() in ('us-ascii', 'utf-8') else cs)),
           ('Thread-Index', tindex),
           ('Date', rfcdate(dt, 0)),
           ('Message-ID', '<%s>' % mid)]
    if refs:
        hs.append(('References', _ids(refs)))
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    hs += [('Accept-Language', ('%s, en-US' if lt != 'en' else '%s') % {'en': 'en-US', 'de': 'de-DE', 'sv': 'sv-SE', 'fr': 'fr-FR',
                                                'es': 'es-ES', 'ko': 'ko-KR'}[lt]),
           ('Content-Language', {'en': 'en-US', 'de': 'de-DE', 'sv': 'sv-SE', 'fr': 'fr-FR', 'es': 'es-ES',
                                 'ko': 'ko-KR'}[lt]),
           ('X-MS-Has-Attach', 'yes' if atts else ''),
           ('X-MS-TNEF-Correlator', ''),
           ('msip_labels', ''),
           ('x-ms-publictraffictype', 'Email'),
           ('x-ms-traffictypediagnostic', '%s:EE_' % host),
           ('x-ms-exchange-antispam-relay', '0'),
           ('X-MS-Exchange-CrossTenant-Network-Message-Id', uuid_like(seed + 'nm')),
           ('X-MS-Exchange-CrossTenant-originalarrivaltime', '%s' % tzd(dt, 0).strftime('%d %b %Y %H:%M:%S.0000 (UTC)')),
           ('X-MS-Exchange-CrossTenant-fromentityheader', 'Hosted'),
           ('X-MS-Exchange-Transport-CrossTenantHeadersStamped', host)]
    hs += list(extra)
    # Exchange writes Content-Type before MIME-Version
    return ''.join('%s: %s\n' % (k, v) for k, v in hs if v is not None) + root.render().replace(
        '\n\n', '\nMIME-Version: 1.0\n\n', 1), mid


def gmail(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, atts=(), tz=0,
          lang='en', mid=None, extra=(), rp=None, cjk=False, fwd=None, inline=None):
    mid = mid or 'CA%s%s%s@mail.gmail.com' % (rnd(seed, 40, ALNUM + '+_-'), '=' * (ord(seed[-1]) % 2),
                                              rnd(seed + 'x', 4, ALNUM))
    e = lambda x: html.escape(x, quote=False)
    plain = body
    hb = '<div dir="ltr">' + ''.join('<div>%s</div>' % (e(l) if l else '<br>') for l in body.split('\n')) + '</div>'
    if fwd:
        # fwd = (Q, forwarded text); inline Gmail forward
        fq = fwd
        fh = ['---------- Forwarded message ---------', 'From: %s' % fq.author.t(),
              'Date: %s' % en_gmail(tzd(fq.dt, tz)), 'Subject: %s' % fq.subject,
              'To: %s' % ', '.join(p.t() for p in fq.to)]
        if fq.cc:
            fh.append('Cc: %s' % ', '.join(p.t() for p in fq.cc))
        plain += '\n\n' + '\n'.join(fh) + '\n\n\n' + fq.body
        hb += ('<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>'
               + '<br>'.join(e(l).replace('From: ', 'From: <strong class="gmail_sendername" dir="auto">', 1)
                             + ('</strong>' if l.startswith('From: ') else '') for l in fh[1:])
               + '<br></div><br><br>' + ''.join('<div>%s</div>' % (e(l) if l else '<br>') for l in fq.body.split('\n'))
               + '</div>')
    if q:
        if lang == 'ko':
            attr = '%s, %s님이 작성:' % (ko_gmail(tzd(q.dt, tz)), q.author.t())
            attr_plain = attr
        else:
            attr = 'On %s %s wrote:' % (en_gmail(tzd(q.dt, tz)), q.author.t())
            # Gmail wraps the attribution of text/plain at 78 columns
            attr_plain = attr if len(attr) <= 78 else attr[:attr.rfind(' ', 0, 78)] + '\n' + attr[attr.rfind(' ', 0, 78) + 1:]
        plain += '\n\n' + attr_plain + '\n\n' + gt(q.body) + '\n'
        hb += ('<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">%s<br></div><blockquote class="gmail_quote" '
               'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">%s</blockquote></div>'
               % (e(attr), '<br>'.join(e(l) for l in q.body.split('\n'))))
    b = '0000000000%s' % rnd(seed + 'b', 18)
    cte_t = 'base64' if cjk else ('7bit' if is_ascii(plain) and max(len(l) for l in plain.split('\n')) < 78
                                  else 'quoted-printable')
    cte_h = 'base64' if cjk else 'quoted-printable'
    root = multi('alternative', b, [text('text/plain; charset="UTF-8"', plain, 'utf-8', cte_t),
                                    text('text/html; charset="UTF-8"', hb + '\n', 'utf-8', cte_h)])
    if inline:
        root = multi('related', '0000000000%s' % rnd(seed + 'r', 18), [root] + list(inline))
    if atts:
        root = multi('mixed', '0000000000%s' % rnd(seed + 'm', 18), [root] + list(atts))
    host = 'mail-%s-f%d.google.example' % (['ej1', 'wm1', 'lf1', 'pl1', 'ed1'][ord(seed[0]) % 5], 40 + ord(seed[-1]) % 60)
    hs = top(rp or frm.addr, dt, host, '198.51.100.%d' % (ord(seed[-1]) % 250 + 1), seed)
    hs += [('DKIM-Signature', 'v=1; a=rsa-sha256; c=relaxed/relaxed;\n        d=%s; s=20230601; t=%d; x=%d; darn=desk.example;\n'
            '        h=to:subject:message-id:date:from:in-reply-to:references\n         :mime-version:from:to:cc:subject:date'
            ':message-id:reply-to;\n        bh=%s=;\n        b=%s' % (frm.domain, int(dt.timestamp()),
                                                                    int(dt.timestamp()) + 604800,
                                                                    rnd(seed + 'bh', 43, B64A),
                                                                    rnd(seed + 'dk', 60, B64A) + '\n         ' +
                                                                    rnd(seed + 'dk2', 60, B64A) + '=='))]
    hs += [('X-Gm-Message-State', 'AOJu0Y%s\n\t%s' % (rnd(seed + 'gm', 50, B64A), rnd(seed + 'gm2', 20, B64A) + '==')),
           ('X-Google-Smtp-Source', 'AGHT+I%s==' % rnd(seed + 'gs', 60, B64A)),
           ('X-Received', 'by 2002:a05:6402:%s:b0:5f1:%s with SMTP id %s.%d.%d;\n        %s' % (
               rnd(seed + 'xr', 4), rnd(seed + 'xr2', 4), rnd(seed + 'xr3', 16, 'abcdefghijklmnopqrstuvwxyz0123456789'),
               int(dt.timestamp()) % 1000, int(dt.timestamp()), rfcdate(dt, -8 if tz >= 0 else tz) + ' (PST)'
               if tz >= 0 else rfcdate(dt, tz))),
           ('MIME-Version', '1.0')]
    if refs:
        hs.append(('References', _ids(refs)))
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    hs += [('From', frm.h()), ('Date', rfcdate(dt, tz, pad=False)), ('Message-ID', '<%s>' % mid),
           ('Subject', subj(subject)), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None)]
    hs += list(extra)
    return mail(hs, root), mid


def apple(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, atts=(), tz=1,
          mid=None, extra=(), rp=None, plain_only=False, flowed=True, iphone=False, fwd=None):
    mid = mid or '%s@%s' % (uuid_like(seed, upper=True), frm.domain)
    e = lambda x: html.escape(x, quote=False)
    if iphone:
        body = body + '\n\nSent from my iPhone'
    plain = body
    hb = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
          '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
          + ''.join('<div>%s</div>' % (e(l) if l else '<br>') for l in body.split('\n')))
    if fwd:
        fq = fwd
        plain += ('\n\n' + 'Begin forwarded message:\n\nFrom: %s\nSubject: %s\nDate: %s\nTo: %s\n\n%s'
                  % (fq.author.t(), fq.subject, en_long(tzd(fq.dt, tz)), ', '.join(p.t() for p in fq.to), fq.body))
        hb += ('<div><br><blockquote type="cite"><div>Begin forwarded message:</div><br class="Apple-interchange-newline">'
               '<div><b>From: </b>%s<br><b>Subject: </b>%s<br><b>Date: </b>%s<br><b>To: </b>%s<br></div><br><div>%s</div>'
               '</blockquote></div>' % (e(fq.author.t()), e(fq.subject), e(en_long(tzd(fq.dt, tz))),
                                        e(', '.join(p.t() for p in fq.to)), '<br>'.join(e(l) for l in fq.body.split('\n'))))
    if q:
        h = tzd(q.dt, tz)
        attr = 'On %s %d, %d, at %d:%02d, %s wrote:' % (EN_MON[h.month - 1][:3], h.day, h.year, h.hour, h.minute,
                                                      q.author.t())
        if iphone:
            plain += '\n\n' + gt(attr + '\n\n' + q.body) + '\n'
        else:
            plain += '\n\n' + attr + '\n\n' + gt(q.body) + '\n'
        hb += ('<div><br><blockquote type="cite"><div>%s</div><br class="Apple-interchange-newline"><div><div>%s</div></div>'
               '</blockquote></div>' % (e(attr), '<br>'.join(e(l) for l in q.body.split('\n'))))
    hb += '<br></body></html>\n'
    b = 'Apple-Mail=_%s' % uuid_like(seed + 'b', upper=True)
    if flowed and not iphone:
        ct = 'text/plain;\n\tcharset=utf-8;\n\tformat=flowed' if not is_ascii(plain) else \
            'text/plain;\n\tcharset=us-ascii;\n\tformat=flowed'
        cte = 'quoted-printable' if not is_ascii(plain) else '7bit'
    else:
        ct = 'text/plain;\n\tcharset=utf-8'
        cte = 'quoted-printable'
    tp = text(ct, plain, 'utf-8', cte)
    if plain_only:
        root = tp
    else:
        root = multi('alternative', b, [tp, text('text/html;\n\tcharset=utf-8', hb, 'utf-8', 'quoted-printable')],
                     fold=True)
    if atts:
        root = multi('mixed', 'Apple-Mail=_%s' % uuid_like(seed + 'm', upper=True), [root] + list(atts), fold=True)
    hs = top(rp or frm.addr, dt, 'mail-out.%s' % frm.domain, '192.0.2.%d' % (ord(seed[-1]) % 250 + 3), seed)
    hs += [('From', frm.h())]
    mv = '1.0 (1.0)' if iphone else '1.0 (Mac OS X Mail 16.0 \\(3826.300.87.4.3\\))'
    hs2 = [('Mime-Version', mv), ('Subject', subj(subject, 'utf-8', 'Q')), ('Date', rfcdate(dt, tz, pad=False))]
    if cc:
        hs2.append(('Cc', hlist(cc)))
    if irt:
        hs2.append(('In-Reply-To', '<%s>' % irt))
    hs2 += [('To', hlist(to))]
    if refs:
        hs2.append(('References', _ids(refs)))
    hs2 += [('Message-Id', '<%s>' % mid), ('X-Mailer', 'iPhone Mail (22B91)' if iphone else 'Apple Mail (2.3826.300.87.4.3)')]
    hs2 += list(extra)
    # Apple Mail: From, Content-Type (+CTE for single part), Mime-Version, Subject, Date, ...
    rh = root.headers
    out = ''.join('%s: %s\n' % (k, v) for k, v in hs if v is not None)
    out += ''.join('%s: %s\n' % (k, v) for k, v in rh)
    out += ''.join('%s: %s\n' % (k, v) for k, v in hs2 if v is not None)
    return out + '\n' + root.body, mid


def thunderbird(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, atts=(), tz=1,
                mid=None, extra=(), rp=None, cs='UTF-8', cte='7bit', lang='en-US', attr=None, fwd_att=None,
                ua='Mozilla Thunderbird', signed=None):
    mid = mid or '%s@%s' % (uuid_like(seed), frm.domain)
    plain = body
    if q:
        h = tzd(q.dt, tz)
        a = attr or 'On %d/%d/%s %d:%02d, %s wrote:' % (h.month, h.day, str(h.year)[2:], h.hour, h.minute, q.author.name)
        if '{' in a:
            a = a.format(d=h.day, m=h.month, y=h.year % 100, Y=h.year, H=h.hour, M='%02d' % h.minute, name=q.author.name)
        plain += '\n\n' + a + '\n' + gt(q.body) + '\n'
    if cs.upper() != 'UTF-8' and cte == '7bit' and not is_ascii(plain):
        cte = 'quoted-printable'
    if cte == '7bit' and not is_ascii(plain):
        cte = '8bit'
    tp = text('text/plain; charset=%s; format=flowed' % cs, plain, cs, cte)
    root = tp
    if atts or fwd_att:
        parts = [tp] + list(atts)
        if fwd_att:
            parts.append(fwd_att)
        root = multi('mixed', '------------%s' % rnd(seed + 'b', 24, ALNUM), parts,
                     preamble='This is a multi-part message in MIME format.')
    if signed:
        root = multi('signed', '------------ms%s' % rnd(seed + 's', 22, '0123456789'),
                     [root, binpart('application/pkcs7-signature; name="smime.p7s"', pkcs7_blob(seed),
                                    disp='attachment; filename="smime.p7s"',
                                    extra=[('Content-Description', 'S/MIME Cryptographic Signature')])],
                     params='; protocol="application/pkcs7-signature"; micalg=sha-256',
                     preamble='This is a cryptographically signed message in MIME format.')
    hs = top(frm.addr if rp is None else rp, dt, 'smtp.%s' % frm.domain, '203.0.113.%d' % (ord(seed[-1]) % 250 + 3),
             seed)
    hs += [('Message-ID', '<%s>' % mid), ('Date', rfcdate(dt, tz, pad=False)), ('MIME-Version', '1.0'),
           ('User-Agent', ua), ('Subject', subj(subject, cs, 'B' if cs.upper() != 'UTF-8' else 'Q')),
           ('Content-Language', lang), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None)]
    if refs:
        hs.append(('References', _ids(refs)))
    hs.append(('From', frm.h()))
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    hs += list(extra)
    return mail(hs, root), mid


def mutt(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=0, mid=None, extra=(),
         rp=None, atts=()):
    mid = mid or '%s.GA%s@%s' % (tzd(dt, tz).strftime('%Y%m%d%H%M%S'), rnd(seed, 5, '0123456789'),
                                'workstation.' + frm.domain)
    plain = body
    if q:
        h = tzd(q.dt, tz)
        plain += '\n\n' + 'On %s, %s %02d, %d at %02d:%02d:%02d%s %s, %s wrote:' % (
            EN_DAYS[h.weekday()][:3], EN_MON[h.month - 1][:3], h.day, h.year, h.hour % 12 or 12, h.minute, h.second,
            'AM' if h.hour < 12 else 'PM', h.strftime('%z'), q.author.name) + '\n' + gt(q.body) + '\n'
    plain += '\n-- \n%s\n' % frm.name
    root = text('text/plain; charset=us-ascii' if is_ascii(plain) else 'text/plain; charset=utf-8', plain,
                'utf-8', None, extra=[('Content-Disposition', 'inline')])
    if atts:
        root = multi('mixed', rnd(seed + 'b', 16, 'abcdefghijklmnopqrstuvwxyz0123456789'),
                     [root] + list(atts))
    hs = top(rp or frm.addr, dt, 'shell.' + frm.domain, '198.51.100.%d' % (ord(seed[-1]) % 250 + 3), seed)
    hs += [('Date', tzd(dt, tz).strftime('%a, %d %b %Y %H:%M:%S %z')), ('From', frm.h()), ('To', hlist(to)),
           ('Cc', hlist(cc) if cc else None), ('Subject', subj(subject)), ('Message-ID', '<%s>' % mid)]
    if refs:
        hs.append(('References', _ids(refs)))
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    hs += [('MIME-Version', '1.0')]
    hs += list(extra)
    hs += [('User-Agent', 'Mutt/2.2.13 (2024-03-09)')]
    return mail(hs, root), mid


def yahoo(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=-5, mid=None,
          extra=(), rp=None):
    mid = mid or '%d.%d.%d@mail.yahoo.example' % (int(rnd(seed, 9, '0123456789')) + 1000000000,
                                                   int(rnd(seed + 'a', 7, '0123456789')), int(dt.timestamp() * 1000))
    e = lambda x: html.escape(x, quote=False)
    plain = body
    hb = ('<html><head></head><body><div class="yahoo-style-wrap" style="font-family:Helvetica Neue, Helvetica, Arial, '
          'sans-serif;font-size:13px;">' + ''.join('<div dir="ltr" data-setdir="false">%s</div>' % (e(l) if l else '<br>')
                                                    for l in body.split('\n')) + '</div>')
    if q:
        h = tzd(q.dt, tz)
        attr = 'On %s, %s %d, %d at %d:%02d:%02d %s GMT%d, %s wrote:' % (
            EN_DAYS[h.weekday()], EN_MON[h.month - 1], h.day, h.year, h.hour % 12 or 12, h.minute, h.second,
            'AM' if h.hour < 12 else 'PM', tz, q.author.t())
        plain += '\n\n\n    ' + attr + '  \n\n ' + '\n'.join(' ' + l for l in q.body.split('\n')) + '\n'
        hb += ('<div id="yahoo_quoted_%s" class="yahoo_quoted"><div style="font-family:\'Helvetica Neue\', Helvetica, '
               'Arial, sans-serif;font-size:13px;color:#26282a;"><div>%s</div><div><br></div><div><br></div>'
               '<div><div dir="ltr">%s</div></div></div></div>' % (rnd(seed + 'y', 10, '0123456789'), e(attr),
                                                                   '<br>'.join(e(l) for l in q.body.split('\n'))))
    hb += '</body></html>\n'
    b = '----=_Part_%s_%s.%d' % (rnd(seed + 'p', 7, '0123456789'), rnd(seed + 'p2', 9, '0123456789'),
                                 int(dt.timestamp() * 1000))
    root = multi('alternative', b, [text('text/plain; charset=UTF-8', plain, 'utf-8', '7bit'),
                                    text('text/html; charset=UTF-8', hb, 'utf-8', '7bit')])
    hs = top(rp or frm.addr, dt, 'sonic%d-%d.consmr.mail.yahoo.example' % (300 + ord(seed[0]) % 40, ord(seed[-1]) % 30),
             '203.0.113.%d' % (ord(seed[-1]) % 250 + 3), seed)
    hs += [('DKIM-Signature', 'v=1; a=rsa-sha256; c=relaxed/relaxed; d=yahoo.example; s=s2048; t=%d;\n\tbh=%s=;\n\t'
            'h=Date:From:To:Subject:References:From:Subject:Reply-To;\n\tb=%s==' % (int(dt.timestamp()),
                                                                                  rnd(seed + 'bh', 43, B64A),
                                                                                  rnd(seed + 'dk', 70, B64A))),
           ('X-YMail-OSG', rnd(seed + 'osg', 60, ALNUM + '._') + '\n ' + rnd(seed + 'osg2', 40, ALNUM + '._')),
           ('X-Sonic-MF', '<%s>' % frm.addr),
           ('Date', rfcdate(dt, tz)), ('From', frm.h()), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None),
           ('Message-ID', '<%s>' % mid)]
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    if refs:
        hs.append(('References', _ids(refs)))
    hs += [('Subject', subj(subject)), ('MIME-Version', '1.0')]
    hs += list(extra)
    hs += [('X-Mailer', 'WebService/1.1.23187 YMailNorrin')]
    return mail(hs, root), mid


def naver(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=9, mid=None,
          extra=()):
    """Naver style webmail: HTML only, UTF-8, base64."""
    mid = mid or '%s@cweb%03d.nm.naver.example' % (rnd(seed, 20, 'abcdefghijklmnopqrstuvwxyz0123456789'),
                                                   ord(seed[-1]) % 30)
    e = lambda x: html.escape(x, quote=False)
    hb = ('<div style="font-family:나눔고딕,NanumGothic,sans-serif;font-size:10pt;">' +
          ''.join('<p>%s</p>' % (e(l) if l else '&nbsp;') for l in body.split('\n')) + '</div>')
    if q:
        hb += ('<br><br><div style="border-top:1px solid #d5d5d5;padding-top:8px">-----Original Message-----<br>'
               '<b>From:</b> %s<br><b>To:</b> %s<br><b>Sent:</b> %s<br><b>Subject:</b> %s<br><br>%s</div>'
               % (e(q.author.t()), e(', '.join(p.t() for p in q.to)), e(rfcdate(q.dt, 9)), e(q.subject),
                  '<br>'.join(e(l) for l in q.body.split('\n'))))
    root = text('text/html; charset=utf-8', hb + '\n', 'utf-8', 'base64')
    hs = top(frm.addr, dt, 'cvsmtppost%02d.nm.naver.example' % (ord(seed[0]) % 40), '192.0.2.%d' % (ord(seed[-1]) % 250 + 3),
             seed)
    hs += [('Message-ID', '<%s>' % mid), ('Date', rfcdate(dt, tz)), ('From', frm.h()), ('To', hlist(to)),
           ('Cc', hlist(cc) if cc else None), ('Subject', subj(subject)), ('MIME-Version', '1.0')]
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    if refs:
        hs.append(('References', _ids(refs)))
    hs += [('X-Originating-IP', '192.0.2.%d' % (ord(seed[0]) % 250 + 3)), ('X-Naver-CIP', '192.0.2.%d' % (ord(seed[0]) % 250 + 3)),
           ('X-Mailer', 'Naver Webmail')] + list(extra)
    return mail(hs, root), mid


def daum(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=9, mid=None,
         extra=(), html_only=False):
    """Daum/Hanmail style: EUC-KR, base64, EUC-KR encoded-word subject."""
    mid = mid or '%s.%s@hanmail.example' % (tzd(dt, tz).strftime('%Y%m%d%H%M%S'), rnd(seed, 8, UPHEX))
    e = lambda x: html.escape(x, quote=False)
    plain = body
    hb = '<html><body><div style="font-size:10pt">' + '<br>'.join(e(l) for l in body.split('\n')) + '</div>'
    if q:
        attr = '-----원본 메일-----\n보낸사람: %s\n받는사람: %s\n날짜: %s\n제목: %s' % (
            q.author.t(), ', '.join(p.t() for p in q.to), rfcdate(q.dt, 9), q.subject)
        plain += '\n\n' + attr + '\n\n' + q.body
        hb += '<br><br><blockquote style="border-left:2px solid #ccc;padding-left:5px">%s<br><br>%s</blockquote>' % (
            '<br>'.join(e(l) for l in attr.split('\n')), '<br>'.join(e(l) for l in q.body.split('\n')))
    hb += '</body></html>\n'
    hp = text('text/html; charset="euc-kr"', hb, 'euc-kr', 'base64')
    if html_only:
        root = hp
    else:
        root = multi('alternative', '--=_Part_%s' % rnd(seed + 'b', 12, '0123456789'),
                     [text('text/plain; charset="euc-kr"', plain, 'euc-kr', 'base64'), hp])
    hs = top(frm.addr, dt, 'smtp-%s.hanmail.example' % rnd(seed, 3, '0123456789'), '192.0.2.%d' % (ord(seed[-1]) % 250 + 3),
             seed)
    hs += [('Date', rfcdate(dt, tz)), ('From', frm.h()), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None),
           ('Subject', subj(subject, 'EUC-KR', 'B')), ('Message-ID', '<%s>' % mid)]
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    if refs:
        hs.append(('References', _ids(refs)))
    hs += [('MIME-Version', '1.0'), ('X-Mailer', 'Daum Web Mailer v2.3.1')] + list(extra)
    return mail(hs, root), mid


def becky(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=9, mid=None,
          extra=()):
    """Becky! style Japanese mail: ISO-2022-JP, 7bit."""
    mid = mid or '%s.%s@%s' % (tzd(dt, tz).strftime('%Y%m%d%H%M%S'), rnd(seed, 8, UPHEX), frm.domain)
    plain = body
    if q:
        plain += '\n\nOn %s\n%s wrote:\n%s\n' % (rfcdate(q.dt, 9), q.author.t(), gt(q.body))
    root = text('text/plain; charset=ISO-2022-JP', plain, 'iso-2022-jp', '7bit')
    hs = top(frm.addr, dt, 'mail.' + frm.domain, '198.51.100.%d' % (ord(seed[-1]) % 250 + 3), seed)
    hs += [('Date', rfcdate(dt, tz)), ('From', frm.h()), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None),
           ('Subject', subj(subject, 'ISO-2022-JP', 'B'))]
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    if refs:
        hs.append(('References', _ids(refs)))
    hs += [('Message-Id', '<%s>' % mid), ('MIME-Version', '1.0'), ('X-Mailer', 'Becky! ver. 2.81.06 [ja]')]
    hs += list(extra)
    return mail(hs, root), mid


def foxmail(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=8, mid=None,
            extra=(), cs='gb2312'):
    """Foxmail style Chinese mail: GB2312, base64, multipart/alternative."""
    mid = mid or '%s%s@%s' % (tzd(dt, tz).strftime('%Y%m%d%H%M%S'), rnd(seed, 14, '0123456789'), frm.domain)
    e = lambda x: html.escape(x, quote=False)
    plain = body + '\n\n' + frm.name
    hb = ('<html><head><meta content="text/html; charset=%s" http-equiv="Content-Type"></head><body>' % cs
          + ''.join('<div>%s</div>' % (e(l) if l else '<br>') for l in body.split('\n'))
          + '<hr align="left" style="width:210px;height:1px" size="1"><div><span>%s</span></div>' % e(frm.name))
    if q:
        qh = '发件人：%s\n发送时间：%s\n收件人：%s\n主题：%s' % (q.author.t(), tzd(q.dt, 8).strftime('%Y-%m-%d %H:%M'),
                                                  ', '.join(p.t() for p in q.to), q.subject)
        plain += '\n\n' + qh + '\n\n' + q.body
        hb += ('<blockquote style="margin-Top: 0px; margin-Bottom: 0px; margin-Left: 0.5em; margin-Right: inherit">'
               '<div>&nbsp;</div><div style="border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
               '<div style="PADDING-RIGHT: 8px; PADDING-LEFT: 8px; FONT-SIZE: 12px;FONT-FAMILY:tahoma;COLOR:#000000; '
               'BACKGROUND: #efefef; PADDING-BOTTOM: 8px; PADDING-TOP: 8px">%s</div></div><div>%s</div></blockquote>'
               % ('<br>'.join(e(l) for l in qh.split('\n')), '<br>'.join(e(l) for l in q.body.split('\n'))))
    hb += '</body></html>\n'
    root = multi('alternative', '----=_001_NextPart%s_=----' % rnd(seed + 'b', 12, '0123456789'),
                 [text('text/plain;\n\tcharset="%s"' % cs, plain, cs, 'base64'),
                  text('text/html;\n\tcharset="%s"' % cs, hb, cs, 'base64')],
                 preamble='This is a multi-part message in MIME format.')
    hs = top(frm.addr, dt, 'smtp.' + frm.domain, '203.0.113.%d' % (ord(seed[-1]) % 250 + 3), seed)
    hs += [('Date', rfcdate(dt, tz)), ('From', frm.h()), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None),
           ('Subject', subj(subject, cs.upper() if cs != 'gb2312' else 'gb2312', 'B'))]
    if refs:
        hs.append(('References', _ids(refs)))
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    hs += [('X-Priority', '3'), ('X-Has-Attach', 'no'),
           ('X-Mailer', 'Foxmail 7.2.25.375[cn]' if cs == 'gb2312' else 'QQMail 2.x'),
           ('Mime-Version', '1.0'), ('Message-ID', '<%s>' % mid)] + list(extra)
    return mail(hs, root), mid


def webform(frm, subject, body, dt, seed, extra=(), mid=None, to=(SUPPORT,)):
    """PHP mail() from a website's contact form: no Message-ID unless given."""
    root = text('text/plain; charset=UTF-8', body, 'utf-8', '8bit' if not is_ascii(body) else '7bit')
    hs = top('www-data@web01.shopfront.example', dt, 'web01.shopfront.example', '198.51.100.77', seed, tls=False)
    hs += [('Received', 'by web01.shopfront.example (Postfix, from userid 33)\n\tid 9A1B2C3D4E; %s' % rfcdate(dt, 1)),
           ('To', hlist(to)), ('Subject', subj(subject)), ('X-PHP-Originating-Script', '33:contact.php'),
           ('From', frm.h()), ('Reply-To', frm.addr), ('MIME-Version', '1.0')]
    if mid:
        hs.append(('Message-Id', '<%s>' % mid))
    hs += [('Date', rfcdate(dt, 1))] + list(extra)
    return mail(hs, root), mid



def webhtml(frm, subject, body, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, q=None, tz=0, mid=None,
            extra=(), agent='WebMail/3.4 (webmail.example)'):
    """A webmail that sends HTML only (no text/plain alternative)."""
    mid = mid or '%s@webmail.%s' % (rnd(seed, 24, 'abcdefghijklmnopqrstuvwxyz0123456789'), frm.domain)
    e = lambda x: html.escape(x, quote=False)
    hb = ('<!DOCTYPE html>\n<html><head><meta charset="UTF-8"></head><body style="font-family: Arial, sans-serif; '
          'font-size: 14px;">\n' + '\n'.join('<p>%s</p>' % (e(l) if l else '&nbsp;') for l in body.split('\n')))
    if q:
        h = tzd(q.dt, tz)
        hb += ('\n<p>&nbsp;</p>\n<div>Am %02d.%02d.%d %02d:%02d schrieb %s:</div>\n' % (
            h.day, h.month, h.year, h.hour, h.minute, e(q.author.t())) if frm.domain.endswith('.de.example') else
            '\n<p>&nbsp;</p>\n<div>On %s, %s wrote:</div>\n' % (e(rfcdate(q.dt, tz)), e(q.author.t())))
        hb += ('<blockquote type="cite" style="padding: 0 0.4em; border-left: #1010ff 2px solid; margin: 0">\n'
               + '<br>\n'.join(e(l) for l in q.body.split('\n')) + '\n</blockquote>')
    hb += '\n</body></html>\n'
    root = text('text/html; charset=UTF-8', hb, 'utf-8', 'quoted-printable')
    hs = top(frm.addr, dt, 'webmail.' + frm.domain, '198.51.100.%d' % (ord(seed[-1]) % 250 + 3), seed)
    hs += [('MIME-Version', '1.0'), ('Date', rfcdate(dt, tz)), ('From', frm.h()), ('To', hlist(to)),
           ('Cc', hlist(cc) if cc else None), ('Subject', subj(subject))]
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    if refs:
        hs.append(('References', _ids(refs)))
    hs += [('Message-ID', '<%s>' % mid), ('X-Mailer', agent)] + list(extra)
    return mail(hs, root), mid


def generic(frm, subject, root, dt, seed, to=(SUPPORT,), cc=(), irt=None, refs=None, mid=None, extra=(), rp=-1,
            host=None, pre=(), date_tz=0, mime=True):
    """Any other sender: the caller gives the MIME root and the special headers."""
    hs = top(frm.addr if rp == -1 else rp, dt, host or 'mail.' + frm.domain, '203.0.113.%d' % (ord(seed[-1]) % 250 + 3),
             seed, extra=pre)
    hs += [('From', frm.h()), ('To', hlist(to)), ('Cc', hlist(cc) if cc else None),
           ('Subject', subject), ('Date', rfcdate(dt, date_tz))]
    if mid:
        hs.append(('Message-ID', '<%s>' % mid))
    if irt:
        hs.append(('In-Reply-To', '<%s>' % irt))
    if refs:
        hs.append(('References', _ids(refs)))
    if mime:
        hs.append(('MIME-Version', '1.0'))
    hs += list(extra)
    return mail(hs, root), mid


# --------------------------------------------------------------------------
# manifest bookkeeping

ROWS = []        # (file, expect, thread, machine, snippet, note)
FILES = {}       # name -> bytes
TAGS = {}        # name -> [tag, ...]
SEQ = [0]
NT = [0]
TK = {}          # label -> {'req': P, 'subj': str, 'mids': [...], 'agent': (dt, body)}
AGENTS = ['Maria Jensen', 'Lukas Brandt', 'Yuna Choi', 'Tomas Ortega', 'Ines Duarte']


def newlabel(req, subject):
    NT[0] += 1
    t = 't%03d' % NT[0]
    TK[t] = {'req': req, 'subj': subject, 'mids': [], 'agent': None}
    return t


def emit(short, built, expect, t, machine, snippet, note, tags=(), crlf=False):
    content, mid = built
    SEQ[0] += 1
    name = '%03d-%s.eml' % (SEQ[0], short)
    data = content.encode('latin-1')
    if crlf:
        data = data.replace(b'\n', b'\r\n')
    FILES[name] = data
    ROWS.append((name, expect, t, machine, snippet, note))
    TAGS[name] = list(tags) + (['crlf'] if crlf else [])
    if mid and expect in ('new', 'attach'):
        TK[t]['mids'].append(mid)
    return name, mid


def relist(name, t, machine, note):
    ROWS.append((name, 'duplicate', t, machine, '-', note))


def reply(t, text, note=None, greet=True, sign=None):
    """An agent's public reply on t (the test sends it; we keep its text to quote)."""
    dt = tick(47)
    rec = TK[t]
    agent = sign or AGENTS[int(t[1:]) % len(AGENTS)]
    body = ('Hi %s,\n\n%s\n\nBest regards,\n%s\nDesk Support' % (rec['req'].first, text, agent)) if greet else text
    rec['agent'] = (dt, body)
    ROWS.append(('@reply', '-', t, '-', '-', note or 'agent replies on %s (records its Message-ID and token)' % t))


def solve(t, note=None):
    tick(30)
    ROWS.append(('@solve', '-', t, '-', '-', note or 'agent sets %s to solved' % t))


def aq(t, token=True, to=None, subject=None):
    """Our latest reply on t as the customer's client quotes it."""
    dt, body = TK[t]['agent']
    return Q(DESK, dt, body + ('\n\n' + TOK(t) if token else ''), to=to or [TK[t]['req']],
             subject=subject or 'Re: ' + TK[t]['subj'])


def cq(frm, dt, body, to=(SUPPORT,), cc=(), subject=''):
    return Q(frm, dt, body, to=to, cc=cc, subject=subject)


def our_headers(t, to, cc=(), dt=None, number=True, irt=None):
    """The header block of one of our replies, as a bounce embeds it."""
    dt = dt or TK[t]['agent'][0]
    s = 'Re: %s%s' % ('[#%s] ' % NUM(t) if number else '', TK[t]['subj'])
    lines = ['Return-Path: <support@desk.example>',
             'Received: from app01.desk.example (app01.desk.example [192.0.2.10])\n\tby mx-out.desk.example (Postfix) '
             'with ESMTPSA id 4Rk%s\n\tfor <%s>; %s (UTC)' % (rnd(t + 'q', 9, ALNUM), to[0].addr, rfcdate(dt, 0)),
             'MIME-Version: 1.0',
             'From: Desk Support <support@desk.example>',
             'To: %s' % ', '.join(p.h() for p in to)]
    if cc:
        lines.append('Cc: %s' % ', '.join(p.h() for p in cc))
    lines += ['Subject: %s' % s, 'Date: %s' % rfcdate(dt, 0), 'Message-ID: <%s>' % OUT(t)]
    irt = irt or (TK[t]['mids'][0] if TK[t]['mids'] else None)
    if irt:
        lines += ['In-Reply-To: <%s>' % irt, 'References: <%s>' % irt]
    lines += ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit']
    return '\n'.join(lines) + '\n'


def our_message(t, to, cc=(), number=True):
    dt, body = TK[t]['agent']
    return our_headers(t, to, cc, number=number) + '\n' + body + '\n\n' + TOK(t) + '\n'


# --------------------------------------------------------------------------
# machine mail builders


def postfix_bounce(t_or_none, seed, dt, rcpt, status, diag, host, ip, orig_block, mta_said, rcpt_disp=None,
                   sender='support@desk.example', to=SUPPORT, own=False, delayed=False):
    qid = rnd(seed, 10, UPHEX)
    b = '%s.%d/%s' % (qid, int(dt.timestamp()), host)
    if delayed:
        note = ('This is the mail system at host %s.\n\n'
                '####################################################################\n'
                '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n'
                '####################################################################\n\n'
                'Your message could not be delivered for more than 4 hour(s).\n'
                'It will be retried until it is 5 day(s) old.\n\n'
                'For further assistance, please send mail to postmaster.\n\n'
                'If you do so, please include this problem report. You can\n'
                'delete your own text from the attached returned message.\n\n'
                '                   The mail system\n\n'
                '<%s>: %s\n' % (host, rcpt, mta_said))
        subject = 'Delayed Mail (still being retried)'
        action = 'delayed'
    else:
        note = ('This is the mail system at host %s.\n\n'
                "I'm sorry to have to inform you that your message could not\n"
                'be delivered to one or more recipients. It\'s attached below.\n\n'
                'For further assistance, please send mail to postmaster.\n\n'
                'If you do so, please include this problem report. You can\n'
                'delete your own text from the attached returned message.\n\n'
                '                   The mail system\n\n'
                '<%s>: %s\n' % (host, rcpt, mta_said))
        subject = 'Undelivered Mail Returned to Sender'
        action = 'failed'
    ds = ('Reporting-MTA: dns; %s\nX-Postfix-Queue-ID: %s\nX-Postfix-Sender: rfc822; %s\nArrival-Date: %s (UTC)\n\n'
          'Final-Recipient: rfc822; %s\nOriginal-Recipient: rfc822;%s\nAction: %s\nStatus: %s\n'
          'Remote-MTA: dns; %s\nDiagnostic-Code: smtp; %s\n' % (host, qid, sender, rfcdate(dt - timedelta(minutes=1)),
                                                              rcpt, rcpt_disp or rcpt, action, status,
                                                              'mailstore1.' + rcpt.split('@')[1], diag))
    if delayed:
        ds = ds.replace('Action: delayed', 'Action: delayed\nWill-Retry-Until: %s (UTC)' % rfcdate(dt + timedelta(days=5)))
    root = multi('report', b, [
        text('text/plain; charset=us-ascii', note, 'ascii', None, extra=[('Content-Description', 'Notification')]),
        text('message/delivery-status', ds, 'ascii', None, extra=[('Content-Description', 'Delivery report')]),
        text('text/rfc822-headers', orig_block, 'ascii', None,
             extra=[('Content-Description', 'Undelivered Message Headers')])],
        params='', preamble='This is a MIME-encapsulated message.')
    root.headers[0] = ('Content-Type', 'multipart/report; report-type=delivery-status;\n\tboundary="%s"' % b)
    root.headers.append(('Content-Transfer-Encoding', '7bit'))
    frm = P(None, 'MAILER-DAEMON@%s' % host)
    hs = [('Return-Path', '<>'), ('Delivered-To', 'support@desk.example')]
    if own:
        hs.append(('Received', 'by mx-out.desk.example (Postfix)\n\tid %s; %s (UTC)' % (qid, rfcdate(dt))))
    else:
        hs.append(rcv_ours(dt, host, ip, seed))
        hs.append(('Received', 'by %s (Postfix)\n\tid %s; %s (UTC)' % (host, qid, rfcdate(dt))))
    hs += [('Date', rfcdate(dt) + ' (UTC)'), ('From', 'MAILER-DAEMON@%s (Mail Delivery System)' % host),
           ('Subject', subject), ('To', to.h() if to.name else to.addr), ('Auto-Submitted', 'auto-replied'),
           ('MIME-Version', '1.0')]
    hs += [('Message-Id', '<%s.%s@%s>' % (tzd(dt, 0).strftime('%Y%m%d%H%M%S'), qid, host))]
    out = ''.join('%s: %s\n' % (k, v) for k, v in hs) + root.render()
    return out, '%s.%s@%s' % (tzd(dt, 0).strftime('%Y%m%d%H%M%S'), qid, host)


def exchange_ndr(t, seed, dt, org, rcpt, orig_msg, subject_orig):
    host = 'DB9PR0%dMB%d' % (ord(seed[0]) % 9 + 1, 4000 + ord(seed[-1]) * 7)
    b = '%s' % uuid_like(seed + 'b')
    b2 = '%s' % uuid_like(seed + 'b2')
    plain = ("Your message to %s couldn't be delivered.\n\n%s wasn't found at %s.\n\n"
             "Desk Support\nOffice 365      %s\nAction Required                 Recipient\n\n"
             "Unknown To address\n\nHow to Fix It\nThe address may be misspelled or may not exist. Try one or more of "
             "the following:\n\n  *   Send the message again following these steps: In Outlook, open this "
             "non-delivery report (NDR) and choose Send Again from the Report ribbon.\n  *   Contact the recipient "
             "(by phone, for example) to check that the address exists and is correct.\n\n"
             "Diagnostic information for administrators:\n\nGenerating server: %s.eurprd04.prod.outlook.example\n\n"
             "%s\nRemote server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient %s not found by SMTP "
             "address lookup'\n" % (rcpt, rcpt.split('@')[0], org, rcpt.split('@')[0], host, rcpt, rcpt))
    hb = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=us-ascii">\n</head>\n<body>\n'
          '<p style="font-family:Segoe UI;font-size:16px">Your message to <a href="mailto:%s">%s</a> couldn\'t be '
          'delivered.</p>\n<p style="font-family:Segoe UI;font-size:20px;color:#000000">\n<b>%s</b> wasn\'t found at '
          '%s.</p>\n<p>Diagnostic information for administrators:</p>\n<p>Generating server: %s.eurprd04.prod.outlook.example'
          '</p>\n<p>%s<br>Remote server returned \'550 5.1.10 RESOLVER.ADR.RecipientNotFound\'</p>\n</body>\n</html>\n'
          % (rcpt, rcpt, rcpt.split('@')[0], org, host, rcpt))
    alt = multi('alternative', b2, [text('text/plain; charset="us-ascii"', plain, 'ascii', 'quoted-printable'),
                                    text('text/html; charset="us-ascii"', hb, 'ascii', 'quoted-printable')],
                params='; differences=Content-Type')
    ds = ('Reporting-MTA: dns;%s.eurprd04.prod.outlook.example\nReceived-From-MTA: dns;mx1.desk.example\n'
          'Arrival-Date: %s\n\nFinal-Recipient: rfc822;%s\nAction: failed\nStatus: 5.1.10\n'
          'Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient %s not found by SMTP address lookup\n'
          % (host, rfcdate(dt - timedelta(seconds=40)), rcpt, rcpt))
    root = multi('report', b, [alt, text('message/delivery-status', ds, 'ascii', None),
                               text('message/rfc822', orig_msg, 'ascii', None)],
                 params='; report-type=delivery-status')
    mid = '%s@%s.eurprd04.prod.outlook.example' % (uuid_like(seed + 'm'), host)
    hs = [('Return-Path', '<>'), ('Delivered-To', 'support@desk.example'),
          rcv_ours(dt, 'mail-db9pr0%s.outbound.protection.outlook.example' % host[5], '203.0.113.%d' % (ord(seed[0]) % 200 + 20), seed),
          ('From', 'Microsoft Outlook\n\t<postmaster@%s>' % org), ('To', '<support@desk.example>'),
          ('Date', rfcdate(dt)), ('Content-Type', None), ('Message-ID', '<%s>' % mid),
          ('In-Reply-To', '<%s>' % OUT(t)), ('References', '<%s>' % OUT(t)),
          ('Thread-Topic', subject_orig), ('Thread-Index', base64.b64encode(bytes.fromhex(rnd(seed + 'ti', 44))).decode()),
          ('Subject', 'Undeliverable: %s' % subject_orig), ('Auto-Submitted', 'auto-replied'),
          ('X-MS-PublicTrafficType', 'Email'), ('X-MS-Exchange-Message-Is-Ndr', ''),
          ('X-MS-Exchange-Organization-SCL', '-1'), ('X-MS-Exchange-Organization-AuthSource', '%s.eurprd04.prod.outlook.example' % host),
          ('MIME-Version', '1.0')]
    hs = [(k, v) for k, v in hs if v is not None]
    return ''.join('%s: %s\n' % (k, v) for k, v in hs) + root.render(), mid


def oof(kind, frm, t, dt, seed, subject, body, extra, to=SUPPORT, irt=True, refs=True, quote=None, rp=-1, cs='utf-8',
        tz=1, mid=None, enc_subject=None):
    """An auto-reply; `extra` are the headers that make it machine mail."""
    mid = mid or {'exchange': '%s@%s.eurprd05.prod.outlook.example' % (uuid_like(seed, True).replace('-', '')[:24],
                                                                      'AM5PR05MB' + str(3000 + ord(seed[-1]))),
                  'gmail': 'CA%s@mail.gmail.com' % rnd(seed, 40, ALNUM + '+_-'),
                  }.get(kind, '%s.%s@%s' % (tzd(dt, 0).strftime('%Y%m%d%H%M%S'), rnd(seed, 10, UPHEX), frm.domain))
    content = body + ('\n\n' + quote if quote else '')
    root = text('text/plain; charset="%s"' % cs, content, cs, 'quoted-printable' if '{{' not in content else '7bit')
    return generic(frm, enc_subject or subj(subject), root, dt, seed, mid=mid, to=(to,),
                   irt=OUT(t) if irt and t else None, refs=[OUT(t)] if refs and t else None, extra=extra,
                   rp=rp, date_tz=tz)


# --------------------------------------------------------------------------
# the corpus, in ingest order


CLIENT_NAMES = {'outlook': 'Outlook', 'gmail': 'Gmail', 'apple': 'Apple Mail', 'iphone': 'iPhone Mail',
                'thunderbird': 'Thunderbird', 'mutt': 'Mutt', 'yahoo': 'Yahoo webmail', 'naver': 'Naver-style webmail',
                'daum': 'Daum-style webmail', 'becky': 'Becky!', 'foxmail': 'Foxmail', 'qq': 'QQ Mail'}
LANG_NAMES = {'de': 'German', 'fr': 'French', 'es': 'Spanish', 'it': 'Italian', 'nl': 'Dutch', 'pl': 'Polish',
              'pt': 'Portuguese', 'sv': 'Swedish', 'ko': 'Korean', 'ja': 'Japanese', 'zh': 'Chinese', 'no': 'Norwegian'}


def describe(tags, sep=':'):
    words = []
    for t in tags:
        if t.startswith('lang:'):
            words.append(LANG_NAMES[t[5:]])
        elif t.startswith('cs:'):
            words.append('charset ' + t[3:].replace('utf-8-base64', 'UTF-8 in base64'))
        elif t == 'html-only':
            words.append('HTML only')
        elif t == 'plain-only':
            words.append('text/plain only')
        elif t == 'attachment':
            words.append('with an attachment')
    return ('%s %s' % (sep, ', '.join(words))) if words else ''


def build():
    T = tick
    # ===================================================================
    # Monday morning: first wave of new tickets, one per common client
    # ===================================================================
    anna = P('Anna Berg', 'anna.berg@nordvik.example')
    erik = P('Erik Lind', 'erik.lind@nordvik.example')
    t_anna = newlabel(anna, 'Invoice INV-2026-0412 shows wrong VAT rate')
    d_anna1 = T(0)
    b_anna1 = ('Hello,\n\nOur invoice INV-2026-0412 for October shows 25% VAT instead of 12%.\n'
               'We are registered for the reduced rate on training services, the certificate\n'
               'is in our customer profile since March.\n\n'
               'Could you please issue a corrected invoice? Erik from accounting is in copy.\n\n'
               'Best regards\nAnna Berg\nHead of Operations | Nordvik Training AB\n+46 8 555 0142')
    f_anna1, m_anna1 = emit('outlook-new-invoice-vat',
                            outlook(anna, TK[t_anna]['subj'], b_anna1, d_anna1, 'anna1', cc=[erik]),
                            'new', t_anna, '-', 'shows 25% VAT instead of 12%',
                            'Outlook/Exchange first mail: multipart/alternative text+HTML (MsoNormal), QP, Thread-Index, '
                            'X-MS-Exchange-*, a colleague in Cc', ['outlook', 'first-mail', 'cc'], crlf=True)

    jonas = P('Jonas Weber', 'j.weber@bergmann-logistik.example')
    t_jonas = newlabel(jonas, 'Fehlende Lieferung zu Auftrag 4711')
    b_jonas1 = ('Guten Tag,\n\nlaut Sendungsverfolgung wurde die Ware für Auftrag 4711 am 28.10. zugestellt,\n'
                'bei uns ist aber nichts angekommen. Unser Lager in Mönchengladbach hat keinen\n'
                'Wareneingang verbucht.\n\nBitte prüfen Sie das mit dem Spediteur.\n\n'
                'Mit freundlichen Grüßen\nJonas Weber\nBergmann Logistik GmbH')
    f_jonas1, m_jonas1 = emit('outlook-de-new-lieferung',
                              outlook(jonas, TK[t_jonas]['subj'], b_jonas1, T(), 'jonas1', lang='de', cs='iso-8859-1'),
                              'new', t_jonas, '-', 'die Ware für Auftrag 4711',
                              'German Outlook, charset iso-8859-1 quoted-printable', ['outlook', 'lang:de',
                                                                                      'cs:iso-8859-1'])

    priya = P('Priya Raman', 'priya.raman.dev@example.com')
    t_priya = newlabel(priya, "Can't export contacts to CSV")
    b_priya1 = ('Hi there,\n\nWhen I export the contact list to CSV the export stops at 10,000 rows and the file\n'
                'is cut off in the middle of a line. We have about 14,500 contacts.\n\n'
                'Is there a limit I am not aware of?\n\nThanks,\nPriya')
    f_priya1, m_priya1 = emit('gmail-new-export-csv', gmail(priya, TK[t_priya]['subj'], b_priya1, T(), 'priya1', tz=5.5),
                              'new', t_priya, '-', 'the export stops at 10,000 rows',
                              'Gmail first mail: multipart/alternative, CA...@mail.gmail.com id, X-Gm-Message-State',
                              ['gmail', 'first-mail'])

    sarah = P('Sarah Chen', 'sarah.chen@example.net')
    t_sarah = newlabel(sarah, 'Login loop on the customer portal')
    b_sarah1 = ('Hello,\n\nsince this morning I cannot log in to the customer portal. After entering my password '
                'the page reloads and shows the login form again, over and over.\n\n'
                'I tried Safari and Firefox, cleared cookies, same result.\n\nSarah')
    f_sarah1, m_sarah1 = emit('apple-new-login-loop', apple(sarah, TK[t_sarah]['subj'], b_sarah1, T(), 'sarah1', tz=-8),
                              'new', t_sarah, '-', 'I cannot log in to the customer portal',
                              'Apple Mail: Apple-Mail=_ boundary, format=flowed, Message-Id casing, X-Mailer Apple Mail',
                              ['apple', 'format-flowed'])

    mike = P('Mike Johnson', 'mike.j@example.org')
    t_mike = newlabel(mike, 'App crashes on startup after update')
    f_mike1, m_mike1 = emit('iphone-new-app-crash',
                            apple(mike, TK[t_mike]['subj'],
                                  'Hi, since the update to 5.2 this morning the app crashes right after the splash '
                                  'screen. iPhone 15, iOS 19.1. Reinstalled already.\n\nMike', T(), 'mike1', tz=-5,
                                  iphone=True, plain_only=True),
                            'new', t_mike, '-', 'crashes right after the splash',
                            'iPhone Mail: plain text only, QP, "Sent from my iPhone"', ['iphone', 'plain-only'])

    marco = P('Marco Rossi', 'marco@studio-rossi.example')
    t_marco = newlabel(marco, 'Webhook signature mismatch since Friday')
    f_marco1, m_marco1 = emit('thunderbird-new-webhook',
                              thunderbird(marco, TK[t_marco]['subj'],
                                          'Hello,\n\nsince Friday every webhook we receive fails signature verification. '
                                          'We compute HMAC-SHA256 over the raw body with the secret from the '
                                          'settings page, as documented.\n\nNothing changed on our side. Did you rotate '
                                          'the secret or change the header name?\n\n'
                                          'Example delivery id: whd_7f3a9c21\n\nRegards,\nMarco Rossi\nStudio Rossi',
                                          T(), 'marco1'),
                              'new', t_marco, '-', 'fails signature verification',
                              'Thunderbird: text/plain format=flowed 7bit, User-Agent', ['thunderbird', 'plain-only',
                                                                                        'format-flowed'])

    minjun = P('김민준', 'minjun.kim@naver.example')
    t_minjun = newlabel(minjun, '결제 오류 문의드립니다')
    f_minjun1, m_minjun1 = emit('naver-ko-new-payment',
                                naver(minjun, TK[t_minjun]['subj'],
                                      '안녕하세요.\n어제부터 카드 결제가 계속 실패합니다.\n오류 코드는 E-402 입니다.\n'
                                      '확인 부탁드립니다.\n\n감사합니다.\n김민준 드림', T(), 'minjun1'),
                                'new', t_minjun, '-', '카드 결제가 계속 실패합니다',
                                'Korean webmail (Naver style): HTML only, UTF-8 base64, =?UTF-8?B?...?= subject and name',
                                ['naver', 'lang:ko', 'html-only', 'cs:utf-8-base64', 'encoded-words'])

    oliver = P('Oliver Grant', 'oliver@grant-hardware.example')
    t_oliver = newlabel(oliver, 'Bulk import rejects ISO dates')
    f_oliver1, m_oliver1 = emit('mutt-new-import-dates',
                                mutt(oliver, TK[t_oliver]['subj'],
                                     'Hi,\n\nthe bulk import rejects dates in ISO 8601 format (2026-10-31) with\n'
                                     '"invalid date in column 4". The docs say ISO is accepted.\n\n'
                                     'Changing the column to 31/10/2026 works, but our ERP exports ISO only.\n\n'
                                     'Oliver', T(), 'oliver1'),
                                'new', t_oliver, '-', 'rejects dates in ISO 8601 format',
                                'Mutt: plain us-ascii, no Content-Transfer-Encoding, signature separator',
                                ['mutt', 'plain-only'])

    linda = P('Linda Park', 'lindapark77@yahoo.example')
    t_linda = newlabel(linda, 'Charged twice for November')
    f_linda1, m_linda1 = emit('yahoo-new-charged-twice',
                              yahoo(linda, TK[t_linda]['subj'],
                                    'Hello,\n\nmy credit card was charged twice for the November subscription '
                                    '($29.00 on Nov 1 and again on Nov 2).\nPlease refund one of them.\n\n'
                                    'Thank you\nLinda', T(), 'linda1'),
                              'new', t_linda, '-', 'charged twice for the November',
                              'Yahoo webmail: multipart/alternative, yahoo-style-wrap HTML, X-Mailer WebService',
                              ['yahoo'])

    daniel = P('Daniel Novak', 'dnovak@brightline.example')
    procurement = P(None, 'procurement@brightline.example')
    t_daniel = newlabel(daniel, 'PO 88213 - 15 additional seats')
    f_daniel1, m_daniel1 = emit('outlook-new-po-pdf',
                                outlook(daniel, TK[t_daniel]['subj'],
                                        'Hi,\n\nplease find attached our purchase order 88213 for 15 additional seats '
                                        '(Professional plan), starting December 1.\n\nPlease send the invoice to '
                                        'procurement@brightline.example (in copy).\n\nThanks,\nDaniel Novak\n'
                                        'IT Manager, Brightline', T(), 'daniel1', cc=[procurement], tz=-5,
                                        atts=[binpart('application/pdf; name="PO-88213.pdf"', tiny_pdf('PO 88213'),
                                                      disp='attachment; filename="PO-88213.pdf"; size=%d;\n\t'
                                                           'creation-date="%s";\n\tmodification-date="%s"' % (
                                                          len(tiny_pdf('PO 88213')), rfcdate(now()), rfcdate(now())),
                                                      extra=[('Content-Description', 'PO-88213.pdf')])]),
                                'new', t_daniel, '-', 'purchase order 88213 for 15',
                                'Outlook multipart/mixed with a small PDF attachment', ['outlook', 'attachment'],
                                crlf=True)

    fatima = P('Fatima Al-Sayed', 'fatima.alsayed@example.org')
    t_fatima = newlabel(fatima, 'Dashboard widgets are empty')
    f_fatima1, m_fatima1 = emit('gmail-new-inline-screenshot',
                                gmail(fatima, TK[t_fatima]['subj'],
                                      'Hello,\n\nall widgets on the sales dashboard are empty since yesterday, see the '
                                      'screenshot below.\nOther dashboards work.\n\nFatima', T(), 'fatima1', tz=4,
                                      inline=[binpart('image/png; name="image.png"', PNG_1PX,
                                                      disp='inline; filename="image.png"', cid='ii_m3k1f2a90',
                                                      extra=[('X-Attachment-Id', 'ii_m3k1f2a90')])]),
                                'new', t_fatima, '-', 'all widgets on the sales dashboard',
                                'Gmail with an inline image: multipart/related with Content-ID', ['gmail', 'inline-image'])

    camille = P('Camille Laurent', 'camille.laurent@atelier-lumiere.example')
    t_camille = newlabel(camille, 'Facture erronée – merci de corriger')
    f_camille1, m_camille1 = emit('outlook-fr-cp1252-facture',
                                  outlook(camille, TK[t_camille]['subj'],
                                          'Bonjour,\n\nla facture n° F-2026-1187 indique un montant de 1 240,00 € au '
                                          'lieu de 1 024,00 €.\nPourriez-vous nous envoyer une facture rectifiée ?\n\n'
                                          'Merci d’avance,\nCamille Laurent\nAtelier Lumière', T(), 'camille1', lang='fr',
                                          cs='windows-1252'),
                                  'new', t_camille, '-', 'montant de 1 240,00 €',
                                  'French Outlook, windows-1252 QP (€ = 0x80, curly apostrophe), =?windows-1252?...?= '
                                  'subject', ['outlook', 'lang:fr', 'cs:windows-1252', 'encoded-words'])

    lucia = P('Lucía Fernández', 'lucia.fernandez@ejemplo.example', cs='ISO-8859-15', enc='Q')
    t_lucia = newlabel(lucia, 'Cobro duplicado de 49,90 €')
    f_lucia1, m_lucia1 = emit('thunderbird-es-iso885915',
                              thunderbird(lucia, TK[t_lucia]['subj'],
                                          'Hola:\n\nEste mes nos han cobrado dos veces el importe de 49,90 € '
                                          '(cuenta 30-1177).\n¿Podrían devolver el cargo duplicado?\n\n'
                                          'Un saludo,\nLucía Fernández', T(), 'lucia1', cs='ISO-8859-15',
                                          cte='quoted-printable', lang='es-ES'),
                              'new', t_lucia, '-', 'el importe de 49,90 €',
                              'Spanish Thunderbird, ISO-8859-15 QP (€ = 0xA4), =?ISO-8859-15?Q?...?= name',
                              ['thunderbird', 'lang:es', 'cs:iso-8859-15', 'encoded-words'])

    hanako = P('田中 花子', 'h.tanaka@sakura-shoji.example', cs='ISO-2022-JP')
    t_hanako = newlabel(hanako, '請求書の宛名変更について')
    f_hanako1, m_hanako1 = emit('becky-ja-iso2022jp',
                                becky(hanako, TK[t_hanako]['subj'],
                                      'ご担当者様\n\nいつもお世話になっております。\nさくら商事の田中です。\n\n'
                                      '来月から請求書の宛名を「さくら商事株式会社 経理部」に\n変更したいのですが、'
                                      'どのように申請すればよいでしょうか。\n\nよろしくお願いいたします。\n田中 花子',
                                      T(), 'hanako1'),
                                'new', t_hanako, '-', '請求書の宛名を',
                                'Japanese (Becky!): ISO-2022-JP 7bit body, =?ISO-2022-JP?B?...?= subject',
                                ['becky', 'lang:ja', 'cs:iso-2022-jp', 'encoded-words'])

    wangwei = P('王伟', 'wangwei@huaxin-trade.example', cs='gb2312')
    t_wang = newlabel(wangwei, '发票抬头需要修改')
    f_wang1, m_wang1 = emit('foxmail-zh-gb2312',
                            foxmail(wangwei, TK[t_wang]['subj'],
                                    '您好，\n\n我们上个月的发票抬头写错了，请帮忙重新开具。\n正确抬头：华信贸易有限公司\n\n谢谢！',
                                    T(), 'wang1'),
                            'new', t_wang, '-', '发票抬头写错了',
                            'Chinese Foxmail: GB2312 base64 text+HTML, =?gb2312?B?...?=', ['foxmail', 'lang:zh',
                                                                                          'cs:gb2312', 'encoded-words'])

    seoyeon = P('이서연', 'seoyeon.lee@hanmail.example', cs='EUC-KR')
    t_seoyeon = newlabel(seoyeon, '세금계산서 재발행 요청')
    f_seoyeon1, m_seoyeon1 = emit('daum-ko-euckr',
                                  daum(seoyeon, TK[t_seoyeon]['subj'],
                                       '안녕하세요.\n\n지난달 세금계산서의 사업자등록번호가 잘못 기재되어 있습니다.\n'
                                       '올바른 번호는 123-45-67890 입니다.\n재발행 부탁드립니다.\n\n이서연 드림',
                                       T(), 'seoyeon1'),
                                  'new', t_seoyeon, '-', '사업자등록번호가 잘못 기재되어',
                                  'Korean (Daum/Hanmail style): EUC-KR base64 text+HTML, =?EUC-KR?B?...?=',
                                  ['daum', 'lang:ko', 'cs:euc-kr', 'encoded-words'])

    jihoon = P('박지훈', 'jihoon.park@hanbit-tech.example', cs='ks_c_5601-1987')
    t_jihoon = newlabel(jihoon, '계정 잠금 해제 요청')
    f_jihoon1, m_jihoon1 = emit('outlook-ko-ksc5601',
                                outlook(jihoon, TK[t_jihoon]['subj'],
                                        '안녕하세요,\n\n관리자 계정(admin@hanbit-tech.example)이 비밀번호 5회 오류로 '
                                        '잠겼습니다.\n잠금 해제 부탁드립니다.\n\n박지훈 드림\n한빛테크 IT팀',
                                        T(), 'jihoon1', lang='ko', cs='ks_c_5601-1987', tz=9),
                                'new', t_jihoon, '-', '비밀번호 5회 오류로',
                                'Korean Outlook: charset ks_c_5601-1987 (an alias real Outlook uses), base64',
                                ['outlook', 'lang:ko', 'cs:ks_c_5601-1987', 'encoded-words'])

    # a website contact form (PHP mail()) without any Message-ID, delivered twice
    kevin = P('Kevin Osei', 'kevin.osei@example.net')
    t_kevin = newlabel(kevin, 'Contact form: enterprise pricing')
    d_form = T()
    form_body = ('Name: Kevin Osei\nE-mail: kevin.osei@example.net\nCompany: Osei Freight Ltd\nPhone: +44 20 7946 0321\n\n'
                 'Message:\nWe are 120 agents across three countries and need SSO and an EU data residency.\n'
                 'Could someone send us enterprise pricing?\n\n--\nSent from the contact form on shopfront.example\n')
    form = webform(kevin, TK[t_kevin]['subj'], form_body, d_form, 'kevin1')
    f_form1, _ = emit('webform-no-message-id', form, 'new', t_kevin, '-', 'need SSO and an EU data residency',
                      'contact form mail (PHP mail()) without any Message-ID header', ['webform', 'plain-only',
                                                                                       'no-message-id'])
    T(1)
    emit('webform-no-message-id-copy', form, 'duplicate', t_kevin, '-', '-',
         'byte-identical second delivery of the previous mail (no Message-ID: the id derived from the content '
         'must match)', ['webform', 'no-message-id', 'dup-other-file'])

    grace = P('Grace Kim', 'grace.kim@example.net')
    t_grace = newlabel(grace, 'Import file rejected - sample attached')
    csv = ('email,first_name,last_name,signup_date\ngrace@example.net,Grace,Kim,2026-10-01\n'
           'j.doe@example.com,John,Doe,2026-10-02\n').encode()
    f_grace1, m_grace1 = emit('apple-new-csv-attachment',
                              apple(grace, TK[t_grace]['subj'],
                                    'Hi,\n\nthe attached file is rejected with "header row missing", but the first row '
                                    'is clearly the header.\n\nGrace\n', T(), 'grace1', tz=-8,
                                    atts=[binpart('text/csv;\n\tx-unix-mode=0644;\n\tname="contacts-sample.csv"', csv,
                                                  disp='attachment;\n\tfilename=contacts-sample.csv')]),
                              'new', t_grace, '-', 'rejected with "header row missing"',
                              'Apple Mail multipart/mixed with a CSV attachment (base64)', ['apple', 'attachment'])

    henrik = P('Dr. Henrik Olsen', 'henrik.olsen@fjordklinikk.example')
    t_henrik = newlabel(henrik, 'Data processing agreement - signed copy needed')
    f_henrik1, m_henrik1 = emit('thunderbird-smime-signed',
                                thunderbird(henrik, TK[t_henrik]['subj'],
                                            'Dear support team,\n\nfor our audit we need a copy of the data processing '
                                            'agreement signed by both parties.\nOur signed copy was sent on 14 October.'
                                            '\n\nKind regards,\nHenrik Olsen\nData Protection Officer, Fjordklinikk',
                                            T(), 'henrik1', signed=True, lang='en-GB'),
                                'new', t_henrik, '-', 'signed by both parties',
                                'S/MIME signed mail: multipart/signed with a dummy application/pkcs7-signature part',
                                ['thunderbird', 'smime'])

    robert = P('Robert Hall', 'robert.hall@meridian-supply.example')
    t_robert = newlabel(robert, 'Contract renewal questions')
    tnef_plain = ('Hello,\n\nour contract ends on December 31. Before we renew we would like to know whether '
                  'the price for 2027 stays the same and whether we can move to annual billing.\n\n'
                  'Regards,\nRobert Hall\nMeridian Supply')
    root = multi('mixed', '_000_%s_' % rnd('robert1b', 40, UPHEX),
                 [text('text/plain; charset="us-ascii"', tnef_plain, 'ascii', 'quoted-printable'),
                  binpart('application/ms-tnef; name="winmail.dat"', tnef_blob('robert1'),
                          disp='attachment; filename="winmail.dat"')])
    b_rob = generic(robert, TK[t_robert]['subj'], root, T(), 'robert1',
                    mid='%s@MRDNEX02.meridian-supply.local' % rnd('robert1', 32, UPHEX),
                    extra=[('Thread-Topic', TK[t_robert]['subj']),
                           ('Thread-Index', 'AdlT' + rnd('robert1ti', 28, B64A)),
                           ('Accept-Language', 'en-US'), ('Content-Language', 'en-US'),
                           ('X-MS-Has-Attach', 'yes'), ('X-MS-TNEF-Correlator',
                                                        '<%s@MRDNEX02.meridian-supply.local>' % rnd('robert1', 32,
                                                                                                   UPHEX)),
                           ('x-originating-ip', '[10.20.1.44]')],
                    host='mrdnex02.meridian-supply.example', date_tz=-6)
    f_robert1, m_robert1 = emit('exchange-tnef-winmail', b_rob, 'new', t_robert, '-', 'stays the same and whether',
                                'Exchange rich text: text/plain + application/ms-tnef winmail.dat', ['outlook', 'tnef',
                                                                                                     'attachment'],
                                crlf=True)

    # Outlook 2010 style forward with "-----Original Message-----"
    nina = P('Nina Petrova', 'nina.petrova@polarline.example')
    helpdesk_colleague = P('Mark Ellis', 'mark.ellis@polarline.example')
    t_nina = newlabel(nina, 'FW: Calendar sync stopped for the sales team')
    fw_body = ('Hi support,\n\nforwarding this from our sales lead. Can you check why the calendar sync stopped '
               'for the whole sales team on Friday?\n\nNina\n\n-----Original Message-----\n'
               'From: Mark Ellis [mailto:mark.ellis@polarline.example]\nSent: Friday, October 30, 2026 5:02 PM\n'
               'To: Nina Petrova\nSubject: Calendar sync stopped for the sales team\n\n'
               'Nina, none of the sales reps see new CRM meetings in Outlook since this afternoon.\n'
               'Can you raise it with the vendor?\nMark')
    root = multi('alternative', '----=_NextPart_000_0012_01DB%s' % rnd('nina1', 8, UPHEX),
                 [text('text/plain; charset="us-ascii"', fw_body, 'ascii', '7bit'),
                  text('text/html; charset="us-ascii"', '<html><body>' + '<br>\n'.join(
                      html.escape(l, quote=False) for l in fw_body.split('\n')) + '</body></html>\n', 'ascii',
                      'quoted-printable')], preamble='This is a multipart message in MIME format.')
    f_nina1, m_nina1 = emit('outlook2010-forward-original-message',
                            generic(nina, TK[t_nina]['subj'], root, T(), 'nina1',
                                    mid='000b01db%s$%s$%s@polarline.example' % (rnd('nina1a', 8), rnd('nina1b', 8),
                                                                                rnd('nina1c', 8)),
                                    extra=[('X-Mailer', 'Microsoft Outlook 14.0'),
                                           ('Thread-Index', 'AdlTb' + rnd('ninati', 24, B64A) + '=='),
                                           ('Content-Language', 'en-us')]),
                            'new', t_nina, '-', 'forwarding this from our sales lead',
                            'Outlook 2010 forward with an inline "-----Original Message-----" block',
                            ['outlook', 'fwd-outlook'])

    sam = P('Sam Taylor', 'sam.taylor@example.com')
    hr = P('Rosa Lindqvist', 'rosa.lindqvist@example.com')
    t_sam = newlabel(sam, 'Fwd: Access request for new employee')
    f_sam1, m_sam1 = emit('gmail-inline-forward',
                          gmail(sam, TK[t_sam]['subj'], 'Hi,\n\nsee below - could you create an account for Jamie '
                                'before Monday?\n\nThanks\nSam', T(), 'sam1',
                                fwd=cq(hr, now() - timedelta(hours=3),
                                       'Hi Sam,\n\nJamie Fox starts on Monday in customer success and needs an agent '
                                       'seat.\n\nRosa', to=[sam], subject='Access request for new employee')),
                          'new', t_sam, '-', 'could you create an account for Jamie',
                          'Gmail inline forward ("---------- Forwarded message ---------")', ['gmail', 'fwd-inline'])

    nadia = P('Nadia Petrova', 'nadia@kestrel-analytics.example')
    embedded = ('Return-Path: <alerts@id.kestrel-analytics.example>\nFrom: Kestrel Identity <alerts@id.kestrel-analytics.example>\n'
                'To: nadia@kestrel-analytics.example\nSubject: New sign-in from an unknown device\n'
                'Date: %s\nMessage-ID: <signin-8812@id.kestrel-analytics.example>\nMIME-Version: 1.0\n'
                'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n'
                'A new sign-in to your CRM account was detected from Lagos (Chrome on Windows).\n'
                'If this was not you, reset your password.\n' % rfcdate(now() - timedelta(hours=5)))
    t_nadia = newlabel(nadia, 'Fwd: New sign-in from an unknown device')
    f_nadia1, m_nadia1 = emit('thunderbird-forward-as-attachment',
                              thunderbird(nadia, TK[t_nadia]['subj'],
                                          'Hello,\n\nI got the attached notification but I was not travelling. '
                                          'Can you tell me which IP this sign-in came from and lock the session?\n\n'
                                          'Nadia', T(), 'nadia1',
                                          fwd_att=text('message/rfc822; name="New sign-in from an unknown device.eml"',
                                                       embedded, 'ascii', '7bit',
                                                       extra=[('Content-Disposition', 'attachment;\n filename="New '
                                                               'sign-in from an unknown device.eml"')])),
                              'new', t_nadia, '-', 'I was not travelling',
                              'forward as attachment: multipart/mixed with a message/rfc822 part (its ids are not ours)',
                              ['thunderbird', 'fwd-attachment'])

    # ===================================================================
    # Monday afternoon: agent replies, customers answer
    # ===================================================================
    reply(t_anna, 'Thank you, we have corrected the VAT rate and issued credit note CN-2026-0088 together with\n'
                  'a new invoice INV-2026-0467. Both are in the billing section of your account.')
    d = T(35)
    b = ('Thank you for the quick fix.\n\nOne more question: will the reduced rate also be applied automatically '
         'to the December invoice, or do we have to ask again?\n\nBest regards\nAnna')
    f_anna2, m_anna2 = emit('outlook-reply-both-headers',
                            outlook(anna, 'RE: ' + TK[t_anna]['subj'], b, d, 'anna2', cc=[erik], irt=OUT(t_anna),
                                    refs=[m_anna1, OUT(t_anna)], q=aq(t_anna, to=[anna], subject='Re: ' + TK[t_anna]['subj'])),
                            'attach', t_anna, '-', 'applied automatically',
                            'Outlook reply: In-Reply-To and References to our reply, our token in the quote',
                            ['outlook', 'reply:irt+refs', 'reply:token-quoted'], crlf=True)
    d = T(20)
    f_erik, m_erik = emit('outlook-sv-cc-colleague-reply-all',
                          outlook(erik, 'SV: ' + TK[t_anna]['subj'],
                                  'Hej,\n\nfrom accounting: please also send the credit note as PDF to '
                                  'invoices@nordvik.example, our AP system reads that mailbox.\n\nTack!\nErik Lind',
                                  d, 'erik1', to=[SUPPORT_Q, anna], irt=m_anna2, refs=[m_anna1, OUT(t_anna), m_anna2],
                                  q=cq(anna, now() - timedelta(minutes=20), b, to=[DESK], cc=[erik],
                                       subject='RE: ' + TK[t_anna]['subj']), lang='sv', cs='utf-8'),
                          'attach', t_anna, '-', 'our AP system reads that mailbox',
                          'a colleague who was in Cc replies to all (Swedish Outlook "SV:", Från/Skickat quote); '
                          'attaches by In-Reply-To to the customer\'s reply', ['outlook', 'lang:sv', 'reply:cc-colleague',
                                                                              'reply:irt+refs'])

    reply(t_jonas, 'vielen Dank für Ihre Nachricht. Wir haben beim Spediteur einen Nachforschungsauftrag '
                   'eröffnet.\nSie hören spätestens am Mittwoch von uns.', greet=True)
    TK[t_jonas]['agent'] = (TK[t_jonas]['agent'][0], TK[t_jonas]['agent'][1].replace('Hi Jonas,', 'Hallo Herr Weber,')
                            .replace('Best regards,', 'Viele Grüße'))
    d = T(30)
    jonas_reply = outlook(jonas, 'AW: ' + TK[t_jonas]['subj'],
                          'Hallo,\n\ndanke. Zur Info: der Lieferschein trägt die Nummer LS-99812, falls der Spediteur '
                          'danach fragt.\n\nGruß\nJonas Weber', d, 'jonas2', irt=OUT(t_jonas), lang='de',
                          cs='iso-8859-1', q=aq(t_jonas, token=False, subject='AW: ' + TK[t_jonas]['subj']))
    f_jonas2, m_jonas2 = emit('outlook-de-reply-irt-only', jonas_reply, 'attach', t_jonas, '-',
                              'Lieferschein trägt die Nummer LS-99812',
                              'German Outlook "AW:" reply where Outlook dropped References: In-Reply-To only; the '
                              'quote does not carry the token (only the header can thread it)',
                              ['outlook', 'lang:de', 'reply:irt-only'])

    reply(t_priya, 'Yes, the CSV export is limited to 10,000 rows per file. For larger lists use\n'
                   'Contacts > Export > "Split into several files", or the API endpoint /v1/contacts:export.')
    d = T(25)
    f_priya2, m_priya2 = emit('gmail-reply-both-headers',
                              gmail(priya, 'Re: ' + TK[t_priya]['subj'],
                                    'Thanks! The split option works.\n\nIt would be nice if the export showed a '
                                    'warning instead of cutting the file silently though.\n\nPriya', d, 'priya2',
                                    irt=OUT(t_priya), refs=[m_priya1, OUT(t_priya)], q=aq(t_priya), tz=5.5),
                              'attach', t_priya, '-', 'The split option works',
                              'Gmail reply: In-Reply-To + References, gmail_quote, "On ... wrote:" wrapped over two '
                              'lines, token in the quote (7bit because of the placeholder)',
                              ['gmail', 'reply:irt+refs', 'reply:token-quoted'])
    d = T(9)
    csv2 = 'row,error\n10001,truncated\n10002,truncated\n'.encode()
    f_priya3, m_priya3 = emit('gmail-followup-own-mail-attachment',
                              gmail(priya, 'Re: ' + TK[t_priya]['subj'],
                                    'Attaching the log of the failed export in case it helps your developers.', d,
                                    'priya3', irt=m_priya2, refs=[m_priya1, OUT(t_priya), m_priya2], tz=5.5,
                                    q=cq(priya, now() - timedelta(minutes=9),
                                         'Thanks! The split option works.', to=[DESK]),
                                    atts=[binpart('text/csv; charset="US-ASCII"; name="export-log.csv"', csv2,
                                                  disp='attachment; filename="export-log.csv"',
                                                  extra=[('X-Attachment-Id', 'f_m3k2p9x10'),
                                                         ('Content-ID', '<f_m3k2p9x10>')])]),
                              'attach', t_priya, '-', 'Attaching the log of the failed export',
                              'the customer replies to her own earlier mail (its Message-ID is known) with a CSV '
                              'attachment', ['gmail', 'reply-own-mail', 'attachment'])

    reply(t_sarah, 'We found the cause: a cookie with the old domain was still set. We have deployed a fix;\n'
                   'please try again in a private window first.')
    d = T(41)
    f_sarah2, m_sarah2 = emit('apple-reply-both-headers',
                              apple(sarah, 'Re: ' + TK[t_sarah]['subj'],
                                    'Works now, thank you! Private window and normal window both fine.\n\nSarah',
                                    d, 'sarah2', irt=OUT(t_sarah), refs=[m_sarah1, OUT(t_sarah)], q=aq(t_sarah), tz=-8),
                              'attach', t_sarah, '-', 'Private window and normal window',
                              'Apple Mail reply: "On ... wrote:" + "> " quote, blockquote type=cite, token quoted',
                              ['apple', 'reply:irt+refs', 'reply:token-quoted'])

    reply(t_mike, 'Thanks for the report. Version 5.2.1 with a fix for the startup crash is now in the App Store.')
    d = T(58)
    f_mike2, m_mike2 = emit('iphone-reply-both-headers',
                            apple(mike, 'Re: ' + TK[t_mike]['subj'], 'Updated, it starts again. Thanks', d, 'mike2',
                                  irt=OUT(t_mike), refs=[m_mike1, OUT(t_mike)], q=aq(t_mike), tz=-5, iphone=True),
                            'attach', t_mike, '-', 'Updated, it starts again',
                            'iPhone reply: top-posted, the whole quote including the attribution is "> "-quoted',
                            ['iphone', 'reply:irt+refs', 'reply:token-quoted'])

    reply(t_marco, 'We rotated the signing secret on Friday after a security review and the e-mail\n'
                   'announcing it was not sent to all account owners. Sorry! The new secret is on the\n'
                   'settings page; the old one keeps working until November 15.')
    d = T(33)
    f_marco2, m_marco2 = emit('thunderbird-reply-both',
                              thunderbird(marco, 'Re: ' + TK[t_marco]['subj'],
                                          'Thanks, that explains it. We switched to the new secret and deliveries '
                                          'validate again.\n\nMarco', d, 'marco2', irt=OUT(t_marco),
                                          refs=[m_marco1, OUT(t_marco)], q=aq(t_marco)),
                              'attach', t_marco, '-', 'deliveries validate again',
                              'Thunderbird reply, format=flowed, token in the "> " quote',
                              ['thunderbird', 'reply:irt+refs', 'reply:token-quoted'])

    reply(t_minjun, '안녕하세요 김민준 고객님,\n\n카드사 점검으로 인해 일시적으로 결제가 실패했습니다.\n'
                    '지금은 정상적으로 결제가 가능합니다.\n\n감사합니다.\nDesk Support', greet=False)
    d = T(27)
    f_minjun2, m_minjun2 = emit('naver-ko-reply-irt',
                                naver(minjun, 'RE: ' + TK[t_minjun]['subj'],
                                      '방금 다시 결제해 보니 정상적으로 처리되었습니다.\n빠른 답변 감사합니다.', d, 'minjun2',
                                      irt=OUT(t_minjun), q=aq(t_minjun, token=False)),
                                'attach', t_minjun, '-', '정상적으로 처리되었습니다',
                                'Korean HTML-only base64 reply with In-Reply-To (a base64 body cannot carry the token)',
                                ['naver', 'lang:ko', 'html-only', 'reply:irt-only'])

    reply(t_oliver, 'Confirmed, the importer only accepts ISO dates when the column type is set to "Date (ISO)".\n'
                    'Open the import template, change column 4 to that type and run it again.')
    d = T(66)
    f_oliver2, m_oliver2 = emit('mutt-reply-references-only',
                                mutt(oliver, 'Re: ' + TK[t_oliver]['subj'],
                                     'That did it, thanks. Maybe mention it in the docs?', d, 'oliver2',
                                     refs=[m_oliver1, OUT(t_oliver)], q=aq(t_oliver, token=False)),
                                'attach', t_oliver, '-', 'Maybe mention it in the docs',
                                'reply with References only (no In-Reply-To, dropped by a relay); no token in the quote',
                                ['mutt', 'reply:refs-only'])

    reply(t_linda, 'I have refunded the second charge of $29.00. It will show on your statement within 5 business days.')
    d = T(50)
    f_linda2, m_linda2 = emit('yahoo-reply-unknown-irt-references',
                              yahoo(linda, 'Re: ' + TK[t_linda]['subj'], 'Thank you so much!', d, 'linda2',
                                    irt='1472583690.3141592.1762120000000@mail.yahoo.example',
                                    refs=[m_linda1, OUT(t_linda)], q=aq(t_linda, token=False)),
                              'attach', t_linda, '-', 'Thank you so much!',
                              'In-Reply-To points to an id we never saw; References carries our reply id (rule 2)',
                              ['yahoo', 'reply:refs-only'])

    reply(t_daniel, 'Thanks Daniel, the 15 seats are added as of December 1. The invoice goes to procurement as requested.')
    d = T(4)
    orig = our_message(t_daniel, [daniel], [procurement])
    ndr = exchange_ndr(t_daniel, 'ndr1', d, 'brightline.example', 'procurement@brightline.example', orig,
                       'Re: ' + TK[t_daniel]['subj'])
    f_ndr1, _ = emit('exchange-ndr-message-rfc822', ndr, 'attach', t_daniel, 'delivery_report',
                     "wasn't found at brightline.example",
                     'Exchange NDR (postmaster@, "Undeliverable:"): multipart/report with message/delivery-status and '
                     'the whole original as message/rfc822; also Auto-Submitted and In-Reply-To',
                     ['bounce', 'bounce:exchange', 'multi-signal'], crlf=True)
    d = T(31)
    f_daniel2, m_daniel2 = emit('outlook-reply-after-ndr',
                                outlook(daniel, 'RE: ' + TK[t_daniel]['subj'],
                                        'Sorry, typo on my side - the mailbox is purchasing@brightline.example.\n\n'
                                        'Daniel', d, 'daniel2', irt=OUT(t_daniel), refs=[m_daniel1, OUT(t_daniel)],
                                        q=aq(t_daniel, to=[daniel, procurement]), tz=-5, sep=True),
                                'attach', t_daniel, '-', 'typo on my side',
                                'Outlook reply with the "________________________________" separator, token quoted',
                                ['outlook', 'reply:irt+refs', 'reply:token-quoted'])

    reply(t_fatima, 'A cache node failed yesterday; the widgets are filled again since 10:20 UTC.')
    d = T(22)
    f_fatima2, m_fatima2 = emit('gmail-reply-irt-only',
                                gmail(fatima, 'Re: ' + TK[t_fatima]['subj'], 'Confirmed, all good now. Thanks!', d,
                                      'fatima2', irt=OUT(t_fatima), q=aq(t_fatima, token=False), tz=4),
                                'attach', t_fatima, '-', 'Confirmed, all good now',
                                'reply with In-Reply-To only, quote trimmed (no token)', ['gmail', 'reply:irt-only'])

    reply(t_camille, 'Bonjour Camille,\n\nnous avons émis la facture rectifiée F-2026-1187-R (1 024,00 €).\n\n'
                     'Bien cordialement,\nInes Duarte\nDesk Support', greet=False)
    d = T(45)
    f_camille2, m_camille2 = emit('outlook-fr-reply-no-headers-token',
                                  outlook(camille, 'RE: ' + TK[t_camille]['subj'],
                                          'Bonjour,\n\nc’est parfait, merci beaucoup.\n\nCamille', d, 'camille2',
                                          q=aq(t_camille), lang='fr', cs='windows-1252'),
                                  'attach', t_camille, '-', 'c’est parfait, merci beaucoup',
                                  'French Outlook reply with neither In-Reply-To nor References: only the token in the '
                                  'quoted body threads it (8bit windows-1252 because it carries a placeholder)',
                                  ['outlook', 'lang:fr', 'cs:windows-1252', 'reply:token-only'])

    reply(t_lucia, 'Hola Lucía,\n\nhemos devuelto el cargo duplicado de 49,90 €.\n\nUn saludo,\nTomas Ortega\nDesk Support',
          greet=False)
    d = T(38)
    f_lucia2, m_lucia2 = emit('thunderbird-es-reply-token-8bit',
                              thunderbird(lucia, 'Re: ' + TK[t_lucia]['subj'],
                                          '¡Muchas gracias! Ya lo veo en el extracto.\n\nLucía', d, 'lucia2',
                                          irt=OUT(t_lucia), refs=[m_lucia1, OUT(t_lucia)], q=aq(t_lucia),
                                          cs='ISO-8859-15', lang='es-ES',
                                          attr='El %d/%d/26 a las %d:%02d, Desk Support escribió:' % (
                                              tzd(TK[t_lucia]['agent'][0], 1).day, tzd(TK[t_lucia]['agent'][0], 1).month,
                                              tzd(TK[t_lucia]['agent'][0], 1).hour,
                                              tzd(TK[t_lucia]['agent'][0], 1).minute)),
                              'attach', t_lucia, '-', 'Ya lo veo en el extracto',
                              'Spanish reply, ISO-8859-15 8bit (carries the token), "El ... escribió:"',
                              ['thunderbird', 'lang:es', 'cs:iso-8859-15', 'reply:irt+refs', 'reply:token-quoted'])

    reply(t_hanako, '田中様\n\nお問い合わせありがとうございます。\n請求書の宛名は管理画面の「請求先情報」から変更できます。\n\n'
                    'Desk Support', greet=False)
    d = T(70)
    f_hanako2, m_hanako2 = emit('becky-ja-reply-token',
                                becky(hanako, 'Re: ' + TK[t_hanako]['subj'],
                                      'ご回答ありがとうございます。\n管理画面から変更できました。\n\n田中',
                                      d, 'hanako2', irt=OUT(t_hanako), q=aq(t_hanako)),
                                'attach', t_hanako, '-', '管理画面から変更できました',
                                'Japanese reply, ISO-2022-JP 7bit, the ASCII token line inside the quote',
                                ['becky', 'lang:ja', 'cs:iso-2022-jp', 'reply:irt-only', 'reply:token-quoted'])

    reply(t_wang, '王先生您好，\n\n已为您重新开具发票，抬头为：华信贸易有限公司。\n\nDesk Support', greet=False)
    d = T(31)
    f_wang2, m_wang2 = emit('foxmail-zh-reply-huifu',
                            foxmail(wangwei, '回复: ' + TK[t_wang]['subj'], '收到，谢谢！', d, 'wang2',
                                    irt=OUT(t_wang), q=aq(t_wang, token=False)),
                            'attach', t_wang, '-', '收到，谢谢！',
                            'Chinese Foxmail reply "回复:" (GB2312 base64), In-Reply-To only',
                            ['foxmail', 'lang:zh', 'cs:gb2312', 'reply:irt-only'])

    reply(t_seoyeon, '이서연 고객님 안녕하세요.\n\n사업자등록번호를 수정하여 세금계산서를 재발행했습니다.\n\n감사합니다.\n'
                     'Desk Support', greet=False)
    d = T(3)
    korean_oof = oof('plain', seoyeon, t_seoyeon, d, 'seoyeonoof', '[자동응답] 부재중입니다',
                     '안녕하세요. 이서연입니다.\n\n현재 휴가 중이라 11월 13일까지 메일 확인이 어렵습니다.\n'
                     '급한 용무는 02-555-0100 으로 연락 부탁드립니다.', [('Auto-Submitted', 'auto-replied'),
                                                                  ('X-Mailer', 'Daum Web Mailer v2.3.1')],
                     cs='euc-kr', tz=9, enc_subject=ew('[자동응답] 부재중입니다', 'EUC-KR'))
    f_ko_oof, _ = emit('daum-ko-oof-bujaejung', korean_oof, 'attach', t_seoyeon, 'auto_submitted',
                       '현재 휴가 중이라', 'Korean out-of-office (부재중) to our reply, EUC-KR QP, Auto-Submitted',
                       ['oof', 'lang:ko', 'cs:euc-kr'])
    d = T(60 * 20)
    f_seoyeon2, m_seoyeon2 = emit('daum-ko-reply-irt-refs',
                                  daum(seoyeon, 'Re: ' + TK[t_seoyeon]['subj'], '재발행된 세금계산서 잘 받았습니다. '
                                       '감사합니다.', d, 'seoyeon2', irt=OUT(t_seoyeon),
                                       refs=[m_seoyeon1, OUT(t_seoyeon)], q=aq(t_seoyeon, token=False)),
                                  'attach', t_seoyeon, '-', '세금계산서 잘 받았습니다',
                                  'Korean EUC-KR reply back from holiday, In-Reply-To + References',
                                  ['daum', 'lang:ko', 'cs:euc-kr', 'reply:irt+refs'])

    reply(t_jihoon, '박지훈님 안녕하세요.\n\n관리자 계정 잠금을 해제했습니다. 비밀번호를 재설정해 주세요.\n\nDesk Support',
          greet=False)
    d = T(15)
    f_jihoon2, m_jihoon2 = emit('outlook-ko-reply-re',
                                outlook(jihoon, 'RE: ' + TK[t_jihoon]['subj'],
                                        '확인했습니다. 정상적으로 로그인됩니다.\n감사합니다.', d, 'jihoon2',
                                        irt=OUT(t_jihoon), refs=[m_jihoon1, OUT(t_jihoon)],
                                        q=aq(t_jihoon, token=False), lang='ko', cs='ks_c_5601-1987', tz=9),
                                'attach', t_jihoon, '-', '정상적으로 로그인됩니다',
                                'Korean Outlook "RE:" reply (ks_c_5601-1987 base64), 보낸 사람/보낸 날짜 quote header',
                                ['outlook', 'lang:ko', 'cs:ks_c_5601-1987', 'reply:irt+refs'])

    reply(t_kevin, 'Thanks for your interest! I have attached our enterprise price sheet; SSO and EU data residency\n'
                   'are both included in the Enterprise plan.')
    d = T(80)
    f_kevin2, m_kevin2 = emit('gmail-reply-to-form-ticket',
                              gmail(kevin, 'Re: ' + TK[t_kevin]['subj'],
                                    'Thanks. Can we get a 30 day trial with SSO enabled?', d, 'kevin2',
                                    irt=OUT(t_kevin), refs=[OUT(t_kevin)], q=aq(t_kevin)),
                              'attach', t_kevin, '-', 'Can we get a 30 day trial',
                              'reply on the ticket that a Message-ID-less contact form mail opened',
                              ['gmail', 'reply:irt+refs', 'reply:token-quoted'])

    reply(t_grace, 'The importer expects comma separated files with a UTF-8 header row; your file starts with a\n'
                   'byte order mark. Please save it as "CSV UTF-8" without BOM.')
    d = T(6)
    orig = our_headers(t_grace, [grace])
    bnc = postfix_bounce(t_grace, 'grace-bounce', d, 'grace.kim@example.net', '5.2.2', '552 5.2.2 Mailbox full',
                         'mx.example.net', '198.51.100.25', orig,
                         'host mailstore1.example.net[198.51.100.30] said: 552 5.2.2\n    Mailbox full (in reply to RCPT '
                         'TO command)')
    f_bnc1, _ = emit('postfix-bounce-rfc822-headers', bnc, 'attach', t_grace, 'delivery_report',
                     'Mailbox full (in reply to RCPT TO',
                     'Postfix bounce from MAILER-DAEMON: multipart/report, message/delivery-status, text/rfc822-headers '
                     'holding our reply\'s headers (Return-Path <> and Auto-Submitted too)',
                     ['bounce', 'bounce:postfix', 'multi-signal'])

    reply(t_henrik, 'Dear Dr. Olsen,\n\nthe countersigned agreement is attached to this message.', greet=False)
    d = T(90)
    f_henrik2, m_henrik2 = emit('thunderbird-smime-reply',
                                thunderbird(henrik, 'Re: ' + TK[t_henrik]['subj'],
                                            'Received, thank you. This closes our audit item.\n\nHenrik Olsen', d,
                                            'henrik2', irt=OUT(t_henrik), refs=[m_henrik1, OUT(t_henrik)],
                                            q=aq(t_henrik, token=False), signed=True, lang='en-GB'),
                                'attach', t_henrik, '-', 'This closes our audit item',
                                'S/MIME signed reply (multipart/signed > text/plain)',
                                ['thunderbird', 'smime', 'reply:irt+refs'])

    reply(t_robert, 'Prices for 2027 stay the same and annual billing is possible; I have prepared an offer.')
    d = T(2)
    ex_oof = oof('exchange', robert, t_robert, d, 'robertoof', 'Automatic reply: Re: ' + TK[t_robert]['subj'],
                 'Thank you for your message. I am out of the office until November 9 with limited access to e-mail.\n'
                 'For urgent matters please contact purchasing@meridian-supply.example.\n\nRobert Hall',
                 [('Thread-Topic', 'Re: ' + TK[t_robert]['subj']),
                  ('Thread-Index', 'AQHZ' + rnd('robertoofti', 24, B64A)),
                  ('X-MS-Has-Attach', ''), ('X-MS-Exchange-Inbox-Rules-Loop', 'robert.hall@meridian-supply.example'),
                  ('X-MS-TNEF-Correlator', ''), ('Auto-Submitted', 'auto-replied'),
                  ('X-Auto-Response-Suppress', 'All'), ('X-MS-Exchange-Generated-Message-Source', 'Mailbox Rules Agent'),
                  ('Content-Language', 'en-US')], tz=-6)
    f_ex_oof, _ = emit('exchange-oof-automatic-reply', ex_oof, 'attach', t_robert, 'auto_submitted',
                       'out of the office until November 9',
                       'Exchange out-of-office "Automatic reply:" with Auto-Submitted: auto-replied and '
                       'X-Auto-Response-Suppress: All (first code wins)', ['oof', 'oof:exchange', 'multi-signal'],
                       crlf=True)
    relist(f_ex_oof, t_robert, 'auto_submitted', 'the same out-of-office file delivered again: duplicate')

    reply(t_nina, 'We found a stale OAuth token for the shared calendar of the sales team and renewed it.')
    d = T(12)
    f_nina2, m_nina2 = emit('outlook-reply-in-reply-to-comment',
                            generic(nina, 'RE: ' + TK[t_nina]['subj'],
                                    text('text/plain; charset="us-ascii"',
                                         'Thanks, Mark confirms the meetings are back.\n\nNina\n\n-----Original '
                                         'Message-----\nFrom: Desk Support [mailto:support@desk.example]\nSent: %s\n'
                                         'To: Nina Petrova\nSubject: Re: %s\n\n%s\n' % (
                                             en_long(tzd(TK[t_nina]['agent'][0], 0)), TK[t_nina]['subj'],
                                             TK[t_nina]['agent'][1]), 'ascii', '7bit'),
                                    d, 'nina2', mid='000c01db%s$%s$%s@polarline.example' % (rnd('nina2a', 8),
                                                                                           rnd('nina2b', 8),
                                                                                           rnd('nina2c', 8)),
                                    extra=[('In-Reply-To', '<%s> (Desk Support\'s message of "%s")' % (
                                        OUT(t_nina), rfcdate(TK[t_nina]['agent'][0], 0, pad=False)[:16])),
                                           ('X-Mailer', 'Microsoft Outlook 14.0'),
                                           ('Thread-Index', 'AdlTb' + rnd('ninati', 24, B64A) + 'AAAx0A==')]),
                            'attach', t_nina, '-', 'Mark confirms the meetings are back',
                            'In-Reply-To with a trailing comment after the id (old-style), plain only',
                            ['outlook', 'plain-only', 'reply:irt-only', 'odd-header'])

    reply(t_sam, 'The account for jamie.fox@example.com is created; Jamie receives the invitation on Monday morning.')
    d = T(17)
    f_sam2, m_sam2 = emit('gmail-reply-subject-token-requester',
                          gmail(sam, 'Re: [#%s] %s' % (NUM(t_sam), TK[t_sam]['subj']),
                                'Perfect, thank you.\n\nSam', d, 'sam2', q=aq(t_sam, token=False)),
                          'attach', t_sam, '-', 'Perfect, thank you.',
                          'reply whose headers were lost (no In-Reply-To/References), quote trimmed: only the '
                          '[#N] subject token from the requester threads it', ['gmail', 'reply:subject-token'])

    reply(t_nadia, 'The sign-in came from 203.0.113.50 (a VPN exit node). We have ended that session; please '
                   'also change your password and enable two-factor sign-in.')
    d = T(44)
    f_nadia2, m_nadia2 = emit('thunderbird-reply-with-cc',
                              thunderbird(nadia, 'Re: ' + TK[t_nadia]['subj'],
                                          'Done, two-factor is on now. Adding our security officer in copy.\n\nNadia',
                                          d, 'nadia2', cc=[P('Omar Haddad', 'omar.haddad@kestrel-analytics.example')],
                                          irt=OUT(t_nadia), refs=[m_nadia1, OUT(t_nadia)], q=aq(t_nadia)),
                              'attach', t_nadia, '-', 'two-factor is on now',
                              'reply that adds a new person in Cc (who becomes a participant)',
                              ['thunderbird', 'reply:irt+refs', 'reply:token-quoted', 'cc'])

    # ===================================================================
    # Tuesday: Message-ID oddities, subjects, subject tokens, tokens
    # ===================================================================
    hugo = P('Hugo Brenner', 'hugo.brenner@hansa-werke.example')
    ilse = P('Ilse Martens', 'ilse.martens@hansa-werke.example')
    t_hugo = newlabel(hugo, 'Lizenzen für Werk 2')
    d = T(60 * 9)
    mid_hugo = '%s.%s@erp.hansa-werke.example' % (tzd(d, 1).strftime('%Y%m%d%H%M%S'), rnd('hugo1', 6, '0123456789'))
    root = text('text/plain; charset=utf-8', 'Guten Morgen,\n\nfür Werk 2 brauchen wir ab Dezember acht weitere '
                'Lizenzen.\nBitte schicken Sie uns ein Angebot.\n\nHugo Brenner\nEinkauf, Hansa-Werke AG\n', 'utf-8',
                'quoted-printable')
    f_hugo1, _ = emit('erp-message-id-without-brackets',
                      generic(hugo, subj(TK[t_hugo]['subj']), root, d, 'hugo1', cc=[ilse], date_tz=1,
                              extra=[('Message-ID', mid_hugo), ('X-Mailer', 'HansaERP Mailer 4.2')]),
                      'new', t_hugo, '-', 'acht weitere Lizenzen',
                      'Message-ID written without angle brackets by an in-house ERP mailer',
                      ['msgid-no-brackets', 'plain-only', 'lang:de'])
    TK[t_hugo]['mids'].append(mid_hugo)
    d = T(14)
    f_ilse, m_ilse = emit('thunderbird-reply-to-bracketless-id',
                          thunderbird(ilse, 'Re: ' + TK[t_hugo]['subj'],
                                      'Ergänzung: bitte das Angebot direkt an mich, ich gebe die Bestellung frei.\n\n'
                                      'Ilse Martens', d, 'ilse1', to=[SUPPORT, hugo], irt=mid_hugo, refs=[mid_hugo],
                                      q=cq(hugo, now() - timedelta(minutes=14), 'für Werk 2 brauchen wir ab Dezember '
                                           'acht weitere Lizenzen.'), lang='de-DE',
                                      attr='Am %s schrieb Hugo Brenner:' % tzd(now() - timedelta(minutes=14), 1)
                                      .strftime('%d.%m.%y um %H:%M')),
                          'attach', t_hugo, '-', 'bitte das Angebot direkt an mich',
                          'the colleague in Cc replies to all; In-Reply-To <id> names the bracketless Message-ID of the '
                          'first mail (ids compare without brackets)', ['thunderbird', 'lang:de', 'reply:cc-colleague',
                                                                        'msgid-no-brackets'])

    vera = P('Vera Lindholm', 'vera@lindholm-design.example')
    t_vera = newlabel(vera, 'Custom domain for the help center')
    d = T(31)
    mid_vera = 'Lindholm.%s@mail.lindholm-design.example' % rnd('vera1', 12, UPHEX)
    root = text('text/plain; charset=us-ascii', 'Hi,\n\nwe would like the help center under help.lindholm-design.example.\n'
                'Which CNAME target do we use, and do you provide the TLS certificate?\n\nVera\n', 'ascii', '7bit')
    f_vera1, _ = emit('message-id-odd-casing-whitespace',
                      generic(vera, TK[t_vera]['subj'], root, d, 'vera1', date_tz=2,
                              extra=[('message-id', '\t<%s>   ' % mid_vera), ('x-mailer', 'Claws Mail 4.2.0 '
                                                                                   '(GTK 3.24.41; x86_64-pc-linux-gnu)')]),
                      'new', t_vera, '-', 'Which CNAME target do we use',
                      'header names in lower case ("message-id:"), the id after a tab and followed by spaces',
                      ['msgid-odd', 'plain-only'])
    TK[t_vera]['mids'].append(mid_vera)
    d = T(22)
    root = text('text/plain; charset=us-ascii', 'Forgot to say: we also need the old URL to redirect.\n\nVera\n',
                'ascii', '7bit')
    f_vera2, m_vera2 = emit('reply-to-own-odd-message-id',
                            generic(vera, 'Re: ' + TK[t_vera]['subj'], root, d, 'vera2', date_tz=2,
                                    extra=[('message-id', '<Lindholm.%s@mail.lindholm-design.example>' %
                                            rnd('vera2', 12, UPHEX)), ('in-reply-to', '<%s>' % mid_vera),
                                           ('references', '<%s>' % mid_vera),
                                           ('x-mailer', 'Claws Mail 4.2.0 (GTK 3.24.41; x86_64-pc-linux-gnu)')]),
                            'attach', t_vera, '-', 'we also need the old URL to redirect',
                            'follow-up to her own first mail whose Message-ID had odd whitespace',
                            ['msgid-odd', 'reply-own-mail', 'plain-only'])

    felix = P('Felix Wagner', 'felix.wagner@example.de.example')
    t_felix = newlabel(felix, 'Automatische Zuweisung funktioniert nicht mehr')
    d = T(17)
    mid_felix = '%s-%s-%s@smtp.example.de.example' % (rnd('felix1', 20, ALNUM), rnd('felix1b', 8), rnd('felix1c', 12))
    root = text('text/plain; charset=UTF-8; format=flowed',
                'Hallo,\n\nseit dem Update gestern werden neue Tickets nicht mehr automatisch dem\nTeam "Vertrieb" '
                'zugewiesen. Die Regel ist unverändert aktiv.\n\nGruß\nFelix\n', 'utf-8', '8bit')
    f_felix1, _ = emit('folded-message-id-and-to',
                       generic(felix, subj(TK[t_felix]['subj'], 'UTF-8', 'Q'), root, d, 'felix1',
                               to=[SUPPORT, P('Team Vertrieb', 'vertrieb@example.de.example'),
                                   P('Büro', 'buero@example.de.example')], date_tz=1,
                               extra=[('Message-ID', '\n <%s>' % mid_felix),
                                      ('User-Agent', 'K-9 Mail for Android')]),
                       'new', t_felix, '-', 'nicht mehr automatisch dem',
                       'Message-ID folded onto the next line; To folded over three lines with an encoded name; '
                       'UTF-8 8bit body', ['msgid-odd', 'folded-headers', 'lang:de', 'plain-only'])
    TK[t_felix]['mids'].append(mid_felix)

    reply(t_felix, 'Danke für den Hinweis. Das Update hat die Regel-Reihenfolge geändert; wir haben sie\n'
                   'wiederhergestellt. Neue Tickets werden wieder dem Team zugewiesen.')
    d = T(9)
    f_felix2, m_felix2 = emit('re-only-subject',
                              thunderbird(felix, 'Re:', 'Funktioniert wieder, danke!', d, 'felix2', irt=OUT(t_felix),
                                          refs=[mid_felix, OUT(t_felix)], q=aq(t_felix, token=False), lang='de-DE',
                                          ua='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2'),
                              'attach', t_felix, '-', 'Funktioniert wieder, danke!',
                              'subject of only "Re:" (the sender cleared it); threads by In-Reply-To',
                              ['thunderbird', 're-only-subject', 'reply:irt+refs'])

    long_subj = ('Question regarding the integration between our warehouse management system and your CRM, '
                 'specifically the synchronisation of delivery addresses, custom fields for pallet counts and '
                 'the webhook that should fire when an order is marked as shipped')
    rita = P('Rita Okafor', 'rita.okafor@example.org')
    t_rita = newlabel(rita, long_subj)
    f_rita1, m_rita1 = emit('gmail-very-long-subject',
                            gmail(rita, long_subj, 'Hello,\n\nthe subject says most of it. Our WMS vendor asks whether '
                                  'your webhook can send the pallet count custom field.\n\nRita', T(26), 'rita1', tz=1),
                            'new', t_rita, '-', 'can send the pallet count',
                            'a 236-character subject folded over four header lines',
                            ['gmail', 'long-subject', 'folded-headers'])

    junho = P('최준호', 'junho.choi@example.com')
    ko_long_subj = ('[긴급] 고객 데이터 마이그레이션 일정 및 기존 시스템 연동 방식에 대한 문의와 추가 라이선스 견적 요청드립니다')
    t_junho = newlabel(junho, ko_long_subj)
    f_junho1, m_junho1 = emit('gmail-ko-long-encoded-subject',
                              gmail(junho, ko_long_subj, '안녕하세요.\n\n다음 달 데이터 마이그레이션 일정을 확정하고 싶습니다.\n'
                                    '기존 시스템 연동 방식과 추가 라이선스 견적도 함께 부탁드립니다.\n\n최준호 드림',
                                    T(11), 'junho1', tz=9, cjk=True),
                              'new', t_junho, '-', '마이그레이션 일정을 확정하고',
                              'a long Korean subject as several =?UTF-8?B?...?= words folded over lines; UTF-8 base64 '
                              'bodies', ['gmail', 'lang:ko', 'long-subject', 'encoded-words', 'cs:utf-8-base64',
                                         'folded-headers'])

    leo = P('Leo Martins', 'leo.martins@example.net')
    t_leo = newlabel(leo, '')
    f_leo1, m_leo1 = emit('iphone-empty-subject',
                          apple(leo, '', 'Hi, how do I add a second pipeline? The button is greyed out for me.\n\nLeo',
                                T(40), 'leo1', tz=0, iphone=True, plain_only=True),
                          'new', t_leo, '-', 'how do I add a second pipeline',
                          'empty Subject header (present, no value)', ['iphone', 'empty-subject', 'plain-only'])

    root = text('text/plain; charset=us-ascii', 'Please find attached the scanned document.\n\n'
                'Number of pages: 1\nResolution: 300 dpi\nFile format: PDF\n\nDevice: MFP-3F-East\n', 'ascii', '7bit')
    root = multi('mixed', '=_MFP_%s' % rnd('scan1', 16), [root, binpart('application/pdf; name="SCAN_0042.pdf"',
                                                                     tiny_pdf('scan'),
                                                                     disp='attachment; filename="SCAN_0042.pdf"')])
    scanner = P('MFP-3F-East', 'scanner@harbor-clinic.example')
    t_scan = newlabel(scanner, '(no subject)')
    f_scan, _ = emit('scanner-no-subject-no-message-id',
                     generic(scanner, None, root, T(18), 'scan1', date_tz=-7, mid=None,
                             extra=[('X-Mailer', 'MFP Scan-to-Email 2.1')]),
                     'new', t_scan, '-', 'Please find attached the scanned',
                     'scan-to-email from a multifunction printer: no Subject header and no Message-ID at all; no '
                     'machine header either, so by the rules it is human', ['no-message-id', 'no-subject',
                                                                             'attachment'])

    soren = P('Søren Kjærgaard', 'soren@kjaergaard-byg.example')
    t_soren = newlabel(soren, 'Spørgsmål om fakturaen for oktober')
    root = text('text/plain; charset=utf-8', 'Hej,\n\nvi har fået to fakturaer for oktober måned. Er den ene en '
                'fejl?\n\nVenlig hilsen\nSøren\n', 'utf-8', '8bit')
    raw_hdr = generic(P(None, 'soren@kjaergaard-byg.example'), 'X', root, T(29), 'soren1',
                      mid='%s@kjaergaard-byg.example' % uuid_like('soren1'), date_tz=1,
                      extra=[('User-Agent', 'Roundcube Webmail/1.6.9')])
    raw_hdr = (raw_hdr[0].replace('From: soren@kjaergaard-byg.example', 'From: ' + h8('Søren Kjærgaard', 'utf-8')
                                  + ' <soren@kjaergaard-byg.example>')
               .replace('Subject: X', 'Subject: ' + h8(TK[t_soren]['subj'], 'utf-8')), raw_hdr[1])
    f_soren, _ = emit('raw-utf8-headers', raw_hdr, 'new', t_soren, '-', 'vi har fået to fakturaer',
                      'raw (unencoded) UTF-8 in From and Subject, as SMTPUTF8 or sloppy mailers send it',
                      ['raw-utf8-headers', 'plain-only'])

    # subject tokens ----------------------------------------------------
    d = T(35)
    f_erik2, m_erik2 = emit('outlook-subject-token-cc-participant',
                            outlook(erik, '[#%s] Credit note PDF for our AP system' % NUM(t_anna),
                                    'Hello again,\n\njust checking whether the credit note PDF was sent to '
                                    'invoices@nordvik.example - our AP system has not picked it up yet.\n\nErik',
                                    d, 'erik2'),
                            'attach', t_anna, '-', 'our AP system has not picked it up',
                            'a fresh mail (no reply headers, no token) with [#N] in the subject from Erik, who was in '
                            'Cc of the first mail: a participant, so it attaches', ['outlook', 'reply:subject-token',
                                                                                   'subject-token-participant'])
    omar = P('Omar Haddad', 'omar.haddad@kestrel-analytics.example')
    d = T(25)
    f_omar, m_omar = emit('gmail-subject-token-later-cc-participant',
                          gmail(omar, 'Security review [#%s]' % NUM(t_nadia),
                                'Hi,\n\nI am the security officer at Kestrel. For our incident report, can you send the '
                                'sign-in log of the last 30 days for nadia@kestrel-analytics.example?\n\nOmar Haddad',
                                d, 'omar1', tz=1),
                          'attach', t_nadia, '-', 'For our incident report',
                          'subject token from Omar, who only appeared in Cc of a later mail on the ticket (still a '
                          'participant)', ['gmail', 'reply:subject-token', 'subject-token-participant'])
    stranger = P('Alex Turner', 'alex.turner@example.com')
    t_stranger = newlabel(stranger, 'Re: [#%s] Invoice INV-2026-0412 shows wrong VAT rate' % NUM(t_anna))
    d = T(19)
    f_str, m_str = emit('subject-token-from-stranger',
                        gmail(stranger, 'Re: [#%s] Invoice INV-2026-0412 shows wrong VAT rate' % NUM(t_anna),
                              'Hi, we got a similar invoice with the wrong VAT. Can you check ours too? Customer '
                              'number 55120.\n\nAlex', d, 'stranger1'),
                        'new', t_stranger, '-', 'Customer number 55120',
                        'the [#N] subject token of someone else\'s ticket from a stranger (never in From/To/Cc of that '
                        'ticket): ignored, a new ticket', ['gmail', 'subject-token-stranger'])
    d = T(30)
    jonas_uc = P('Jonas Weber', 'j.weber@BERGMANN-LOGISTIK.example')
    f_jonas3, m_jonas3 = emit('subject-token-domain-case',
                              outlook(jonas_uc, 'WG: [#%s] Lieferschein' % NUM(t_jonas),
                                      'Hallo,\n\nanbei noch einmal die Info vom Lager: Palette 3 von 4 fehlt.\n\n'
                                      'Gruß\nJonas Weber', d, 'jonas3', lang='de', cs='iso-8859-1'),
                              'attach', t_jonas, '-', 'Palette 3 von 4 fehlt',
                              'subject token from the requester whose address is written with an upper-case domain '
                              '(domains compare case-insensitively)', ['outlook', 'lang:de', 'reply:subject-token'])
    eva = P('Eva Lindgren', 'eva.lindgren@example.org')
    t_eva = newlabel(eva, '[#999999] Follow-up on my old ticket')
    f_eva, m_eva = emit('subject-token-unknown-number',
                        thunderbird(eva, TK[t_eva]['subj'],
                                    'Hello,\n\nthis is about the ticket I opened with your previous support provider. '
                                    'The issue with the duplicate contacts is back.\n\nEva', T(21), 'eva1'),
                        'new', t_eva, '-', 'The issue with the duplicate contacts',
                        'a [#N] subject token with a number no ticket has: a new ticket', ['thunderbird',
                                                                                            'subject-token-unknown'])

    # tokens ---------------------------------------------------------------
    giulia = P('Giulia Conti', 'giulia.conti@studio-rossi.example')
    d = T(28)
    f_giulia, m_giulia = emit('gmail-colleague-forwards-our-reply',
                              gmail(giulia, 'Fwd: Re: ' + TK[t_marco]['subj'],
                                    'Hello,\n\nMarco is on holiday. Our staging system still rejects the webhooks - '
                                    'does the new secret apply to staging too?\n\nGiulia', d, 'giulia1', tz=1,
                                    fwd=aq(t_marco, to=[marco])),
                              'attach', t_marco, '-', 'does the new secret apply to staging',
                              'a colleague (never on the ticket) forwards our reply inline: the token in the forwarded '
                              'text threads it (rule 3 accepts anyone)', ['gmail', 'fwd-inline', 'reply:token-only'])
    megan = P('Megan Ross', 'megan.ross@example.net')
    d = T(33)
    t_megan = newlabel(megan, 'Fwd: Login loop on the customer portal')
    f_megan, m_megan = emit('apple-colleague-forwards-customer-mail',
                            apple(megan, 'Fwd: Login loop on the customer portal',
                                  'Hi,\n\nsame problem for me since this morning, forwarding Sarah\'s description.\n'
                                  'My account is megan.ross@example.net.\n\nMegan', d, 'megan1', tz=-8,
                                  fwd=cq(sarah, TK[t_sarah]['agent'][0] - timedelta(hours=3),
                                         'Hello,\n\nsince this morning I cannot log in to the customer portal.',
                                         to=[SUPPORT], subject='Login loop on the customer portal')),
                            'new', t_megan, '-', 'same problem for me since this morning',
                            'a colleague of the customer forwards the customer\'s original mail (no reply headers, no '
                            'token, stranger to the ticket): a new ticket', ['apple', 'fwd-colleague'])

    tom = P('Tom Baker', 'tom.baker@example.com')
    t_tom = newlabel(tom, 'Order 5521 - wrong delivery address')
    f_tom1, m_tom1 = emit('webmail-html-only-new',
                          webhtml(tom, TK[t_tom]['subj'], 'Hello,\n\nmy order 5521 shows my old address in Leeds.\n'
                                  'Please change it to 14 Harbour Road, Bristol before it ships.\n\nTom',
                                  T(42), 'tom1'),
                          'new', t_tom, '-', 'shows my old address in Leeds',
                          'HTML-only mail from a webmail (text/html QP, no text/plain)', ['webmail', 'html-only'])
    reply(t_tom, 'The delivery address of order 5521 is now 14 Harbour Road, Bristol. It ships tomorrow.')
    d = T(15)
    f_tom2, m_tom2 = emit('webmail-html-only-reply-token',
                          webhtml(tom, 'Re: ' + TK[t_tom]['subj'], 'Great, thanks for the quick change!', d, 'tom2',
                                  q=aq(t_tom)),
                          'attach', t_tom, '-', 'thanks for the quick change',
                          'HTML-only reply without In-Reply-To/References; the token sits in the HTML blockquote',
                          ['webmail', 'html-only', 'reply:token-only'])

    greg = P('Greg Palmer', 'greg.palmer@tallpine.example')
    t_greg = newlabel(greg, 'Urgent: production API returning 503')
    f_greg1, m_greg1 = emit('outlook-urgent-api',
                            outlook(greg, TK[t_greg]['subj'], 'Hi,\n\nour production integration gets HTTP 503 from '
                                    'api.desk.example for about 40% of the calls since 14:05 CET.\nRequest ids: '
                                    'req_81f2, req_81f9.\n\nGreg Palmer\nTallpine', T(9), 'greg1',
                                    extra=[('Importance', 'high'), ('X-Priority', '1')]),
                            'new', t_greg, '-', 'for about 40% of the calls',
                            'Outlook with Importance: high / X-Priority: 1 (not machine signals)', ['outlook'],
                            crlf=True)
    reply(t_greg, 'One node of the API cluster failed its health check but stayed in rotation. It is removed;\n'
                  'error rates are back to normal since 14:52 CET.')
    d = T(20)
    f_greg2, m_greg2 = emit('outlook-reply-no-headers-token',
                            outlook(greg, 'RE: ' + TK[t_greg]['subj'], 'Confirmed from our side, thanks for the fast '
                                    'response.\n\nGreg', d, 'greg2', q=aq(t_greg)),
                            'attach', t_greg, '-', 'Confirmed from our side',
                            'Outlook reply carrying neither In-Reply-To nor References (sent from a shared mailbox); '
                            'the quoted token threads it', ['outlook', 'reply:token-only'], crlf=True)
    d = T(13)
    root = text('text/plain; charset=utf-8', 'Sorry, one more thing: please send us a short incident report for our '
                'change board.\n\nGreg\n\n' + gt(aq(t_greg).body) + '\n', 'utf-8', '7bit')
    f_greg3, m_greg3 = emit('reply-without-message-id-token',
                            generic(greg, 'Re: ' + TK[t_greg]['subj'], root, d, 'greg3', mid=None,
                                    extra=[('X-Mailer', 'TallpineNotify 1.4')]),
                            'attach', t_greg, '-', 'a short incident report',
                            'a reply without any Message-ID, threaded by the quoted token', ['no-message-id',
                                                                                            'reply:token-only',
                                                                                            'plain-only'])

    # rule order --------------------------------------------------------------
    t_priya2 = newlabel(priya, 'Duplicate contacts after import')
    f_priya_b1, m_priya_b1 = emit('gmail-second-ticket-same-customer',
                                  gmail(priya, TK[t_priya2]['subj'], 'Hi,\n\nanother one: after yesterday\'s import '
                                        'we have about 300 duplicate contacts. Is there a merge tool?\n\nPriya',
                                        T(44), 'priya4', tz=5.5),
                                  'new', t_priya2, '-', 'about 300 duplicate contacts',
                                  'the same customer opens a second ticket (no reply headers)', ['gmail', 'first-mail'])
    reply(t_priya2, 'Yes: Contacts > Duplicates shows them grouped, and "Merge all" merges each group.')
    d = T(12)
    f_rule3, m_rule3 = emit('token-beats-subject-token',
                            gmail(priya, 'Re: [#%s] Duplicate contacts after import' % NUM(t_priya),
                                  'Thanks, merged. (I put the number of my other ticket in the subject by '
                                  'mistake.)\n\nPriya', d, 'priya5', tz=5.5, q=aq(t_priya2)),
                            'attach', t_priya2, '-', 'put the number of my other ticket',
                            'token of one ticket in the quote and the [#N] of her other ticket in the subject: the '
                            'token (rule 3) wins over the subject (rule 4)', ['gmail', 'reply:token-only', 'rule-order'])
    d = T(16)
    f_rule1, m_rule1 = emit('in-reply-to-beats-references',
                            thunderbird(marco, 'Re: ' + TK[t_marco]['subj'],
                                        'One more detail for the webhook case: the retries also carry the old '
                                        'signature header.\n\nMarco', d, 'marco3', irt=OUT(t_marco),
                                        refs=[m_priya_b1, OUT(t_marco), OUT(t_priya2)], q=aq(t_marco, token=False)),
                            'attach', t_marco, '-', 'the retries also carry the old',
                            'In-Reply-To names our reply on one ticket, the newest References id belongs to another: '
                            'In-Reply-To (rule 1) wins', ['thunderbird', 'rule-order', 'reply:irt+refs'])
    d = T(18)
    f_rule2, m_rule2 = emit('references-newest-wins',
                            mutt(oliver, 'Re: ' + TK[t_oliver]['subj'],
                                 'Also: the same import now shows the date column correctly but drops the time zone.',
                                 d, 'oliver3', refs=[OUT(t_marco), m_oliver1, OUT(t_oliver)],
                                 irt='20261102101010.GA00001@unknown.example'),
                            'attach', t_oliver, '-', 'drops the time zone',
                            'unknown In-Reply-To; References names ids of two tickets: the newest (last) one wins',
                            ['mutt', 'rule-order', 'reply:refs-only'])

    # ===================================================================
    # Tuesday-Wednesday: more customers, more clients and languages
    # ===================================================================
    # (client, person, subject, body, snippet, tags, agent reply, mode, reply subject, reply body, reply snippet, kw)
    # mode: both = In-Reply-To + References (+ token quoted when the client can carry it),
    #       irt = In-Reply-To only, refs = References only, subject = [#N] in the subject only, None = no reply
    C = [
        (outlook, P('Hannes Vogel', 'h.vogel@vogel-maschinenbau.example'), 'Export nach DATEV schlägt fehl',
         'Guten Tag,\n\nder DATEV-Export für Oktober bricht mit der Meldung „Kontenrahmen unbekannt“ ab.\n'
         'Wir verwenden SKR 04.\n\nMit freundlichen Grüßen\nHannes Vogel\nVogel Maschinenbau GmbH',
         'Kontenrahmen unbekannt', ['outlook', 'lang:de'],
         'Hallo Herr Vogel,\n\nbitte wählen Sie unter Einstellungen > Buchhaltung den Kontenrahmen SKR 04 erneut aus\n'
         'und speichern Sie. Danach läuft der Export durch.\n\nViele Grüße\nMaria Jensen\nDesk Support',
         'both', 'AW: ', 'Hat funktioniert, der Export ist vollständig. Danke!', 'der Export ist vollständig',
         dict(lang='de', cs='utf-8')),
        (gmail, P('Aisha Bello', 'aisha.bello@example.com'), 'Webinar recording link broken',
         "Hi,\n\nthe link to the recording of last Thursday's webinar returns a 404.\nCould you send a working link?"
         "\n\nThanks,\nAisha", 'returns a 404', ['gmail'],
         'Sorry about that, the recording moved. Here is the new link:\nhttps://learn.desk.example/webinars/2026-10-29',
         'irt', 'Re: ', 'Got it, the new link works. Thank you!', 'the new link works', dict(tz=1)),
        (apple, P('Chloé Dubois', 'chloe.dubois@exemple-conseil.example', enc='Q'),
         'Problème de synchronisation des contacts',
         'Bonjour,\n\nles contacts créés sur mobile n’apparaissent pas dans l’application web.\n'
         'Pouvez-vous vérifier ?\n\nChloé', 'n’apparaissent pas dans', ['apple', 'lang:fr'],
         'Bonjour Chloé,\n\nla synchronisation mobile était en pause pour votre compte ; nous l’avons relancée.\n\n'
         'Bien cordialement,\nInes Duarte\nDesk Support', 'both', 'Re: ', 'Merci, tout est synchronisé maintenant.',
         'tout est synchronisé maintenant', dict(tz=1)),
        (apple, P('Ethan Brooks', 'ethan.brooks@example.com'), "Can't upload attachment from phone",
         "Uploading a photo to a ticket from the iOS app fails with 'file too large' even for small pictures "
         "(300 KB).", "fails with 'file too large'", ['iphone', 'plain-only'],
         'This was a bug in the upload size check of 5.2.0; version 5.2.1 fixes it.', 'irt', 'Re: ',
         'Works with 5.2.1, thanks.', 'Works with 5.2.1', dict(iphone=True, plain_only=True, tz=-6)),
        (thunderbird, P('Pieter de Vries', 'pieter@devries-ict.example'), 'Vraag over API-limieten',
         'Hallo,\n\nWat is de limiet voor het aantal API-verzoeken per minuut op het Professional-abonnement?\n'
         'We krijgen af en toe een 429.\n\nMet vriendelijke groet,\nPieter de Vries', 'We krijgen af en toe een 429',
         ['thunderbird', 'lang:nl'],
         'The limit is 600 requests per minute per account. The 429 response carries a Retry-After\n'
         'header with the seconds to wait.', 'refs', 'Re: ', 'Duidelijk, we respecteren nu Retry-After. Bedankt!',
         'we respecteren nu Retry-After', dict(lang='nl-NL', attr='Op {d}-{m}-{Y} om {H}:{M} schreef {name}:')),
        (yahoo, P('Carlos Mendes', 'carlos.mendes77@yahoo.example'), 'Não consigo redefinir minha senha',
         'Olá,\n\nO link para redefinir a senha expira antes de eu conseguir abrir o e-mail.\n\nObrigado,\nCarlos',
         'expira antes de eu conseguir', ['yahoo', 'lang:pt'],
         'Olá Carlos,\n\naumentamos a validade do link para 60 minutos. Tente novamente, por favor.\n\n'
         'Atenciosamente,\nInes Duarte\nDesk Support', 'both', 'Re: ', 'Consegui agora, muito obrigado!',
         'Consegui agora, muito obrigado', dict(tz=-3)),
        (outlook, P('Emma Wilson', 'emma.wilson@corvid-media.example'), 'Request: add two admins to our account',
         'Hi,\n\nplease give admin rights to james.holt@corvid-media.example and priya.n@corvid-media.example.\n'
         'I approve this as the account owner.\n\nThanks\nEmma Wilson\nCorvid Media', 'I approve this as the account',
         ['outlook'], None, None, None, None, None, dict(tz=0)),
        (gmail, P('Rahul Mehta', 'rahul@nimbus-labs.example'), 'SAML SSO error: audience mismatch',
         "Hi team,\n\nafter switching our IdP we get 'audience mismatch' on every SSO login.\n"
         "Our entity ID is https://nimbus-labs.example/saml.\n\nRahul", "'audience mismatch' on every SSO",
         ['gmail'],
         'Your IdP still sends the audience of the old setup. Set the audience (SP entity ID) to\n'
         'https://sso.desk.example/saml/nimbus-labs and try again.', 'both', 'Re: ',
         'That was it - fixed the audience in the IdP and SSO works for everyone.', 'SSO works for everyone',
         dict(tz=5.5)),
        (mutt, P('Viktor Sokolov', 'viktor@sokolov-it.example'), 'LDAP sync drops users with umlauts',
         'Hello,\n\nusers whose cn contains non-ASCII characters (e.g. Jürgen Müller) are skipped by\n'
         'the LDAP sync. The log says "invalid DN".\n\nViktor', 'Jürgen Müller) are skipped by',
         ['mutt', 'plain-only'],
         'Thanks for the report. Connector version 3.8.2 escapes non-ASCII DNs correctly; please update.',
         'irt', 'Re: ', 'Confirmed fixed with the new connector.', 'fixed with the new connector', dict(tz=2)),
        (naver, P('정하윤', 'hayoon.jung@naver.example'), '영수증 발급 문의',
         '안녕하세요.\n10월 결제 건에 대한 영수증을 발급받고 싶습니다.\n방법을 알려주세요.\n\n정하윤 드림',
         '영수증을 발급받고 싶습니다', ['naver', 'lang:ko', 'html-only', 'cs:utf-8-base64'],
         '정하윤 고객님 안녕하세요.\n\n결제 내역 화면에서 영수증 출력 버튼을 누르시면 됩니다.\n\n감사합니다.\nDesk Support',
         'irt', 'RE: ', '안내해 주셔서 감사합니다. 영수증 받았습니다.', '영수증 받았습니다', dict()),
        (daum, P('최우진', 'woojin.choi@hanmail.example', cs='EUC-KR'), '회원 탈퇴 요청',
         '안녕하세요.\n더 이상 서비스를 사용하지 않아 계정 삭제를 요청합니다.\n\n최우진', '계정 삭제를 요청합니다',
         ['daum', 'lang:ko', 'html-only', 'cs:euc-kr'], None, None, None, None, None, dict(html_only=True)),
        (foxmail, P('李丽', 'lili@qq.example'), '无法登录客户门户',
         '你好，\n\n从今天早上开始我无法登录客户门户，提示密码错误，但密码是正确的。\n\n谢谢', '提示密码错误',
         ['qq', 'lang:zh', 'cs:utf-8-base64'],
         '李女士您好，\n\n您的账户因多次登录失败被临时锁定，现已解锁。\n\nDesk Support', 'irt', '回复：',
         '已经可以登录了，谢谢！', '已经可以登录了', dict(cs='utf-8')),
        (becky, P('佐藤 健', 'sato@minato-denki.example', cs='ISO-2022-JP'), 'ログインできません',
         'お世話になっております。\nみなと電機の佐藤です。\n\n本日から管理画面にログインできません。\n'
         'エラーコードは AUTH-17 です。\n\nよろしくお願いいたします。', '管理画面にログインできません',
         ['becky', 'lang:ja', 'cs:iso-2022-jp'],
         '佐藤様\n\nお問い合わせありがとうございます。\nパスワードの有効期限切れが原因でした。再設定をお願いいたします。\n\n'
         'Desk Support', 'both', 'Re: ', 'ログインできるようになりました。ありがとうございました。',
         'ログインできるようになりました', dict()),
        (outlook, P('Karin Nilsson', 'karin.nilsson@lundberg-bygg.example'), 'Fråga om faktura',
         'Hej!\n\nVi har fått en faktura på 4 800 kr men vår avtalade månadskostnad är 3 600 kr.\n'
         'Kan ni förklara skillnaden?\n\nMed vänliga hälsningar\nKarin Nilsson\nLundberg Bygg AB',
         'avtalade månadskostnad är 3 600 kr', ['outlook', 'lang:sv'],
         'The difference is the 12 extra seats added on October 3, billed pro rata for October.', 'both', 'SV: ',
         'Tack för förklaringen, då stämmer det.', 'Tack för förklaringen', dict(lang='sv', cs='utf-8')),
        (apple, P('Ben Carter', 'ben.carter@example.com'), 'Feature request: dark mode for the agent app',
         'Hi,\n\nour night shift would love a dark mode in the agent app. Is that on the roadmap?\n\nBen',
         'would love a dark mode', ['apple'], None, None, None, None, None, dict(tz=-7)),
        (gmail, P('Lena Hoffmann', 'lena.hoffmann@example.de.example'), 'Frage zur Datenlöschung nach DSGVO',
         'Hallo,\n\nwie lange werden gelöschte Kontakte noch in Backups aufbewahrt?\nDas brauchen wir für unser '
         'Verarbeitungsverzeichnis.\n\nViele Grüße\nLena Hoffmann', 'in Backups aufbewahrt', ['gmail', 'lang:de'],
         'Hallo Frau Hoffmann,\n\ngelöschte Daten verbleiben höchstens 35 Tage in verschlüsselten Backups.\n\n'
         'Viele Grüße\nLukas Brandt\nDesk Support', 'subject', 'Nachfrage zu [#%s]',
         'Danke, 35 Tage reichen uns als Angabe. Gibt es das auch schriftlich?', '35 Tage reichen uns',
         dict(tz=1)),
        (thunderbird, P('Anja Kowalska', 'a.kowalska@wisla-trans.example'), 'Problem z eksportem raportu',
         'Dzień dobry,\n\neksport raportu sprzedaży do PDF kończy się błędem 500.\n\nPozdrawiam\nAnja Kowalska',
         'kończy się błędem 500', ['thunderbird', 'lang:pl'],
         'The PDF export failed for reports with more than 50 pages; this is fixed since this morning.',
         'both', 'Re: ', 'Dziękuję, teraz działa.', 'Dziękuję, teraz działa',
         dict(lang='pl', attr='W dniu {d}.{m}.{Y} o {H}:{M}, {name} pisze:')),
        (outlook, P('Sophie Martin', 'sophie.martin@groupe-azur.example'), 'Accès refusé au tableau de bord',
         "Bonjour,\n\ndepuis ce matin, j'ai le message « Accès refusé » en ouvrant le tableau de bord commercial.\n\n"
         "Cordialement,\nSophie Martin", 'en ouvrant le tableau de bord', ['outlook', 'lang:fr', 'cs:iso-8859-1'],
         'Bonjour,\n\nvotre rôle avait perdu le droit « Tableaux de bord » lors de la mise à jour ; il est rétabli.\n\n'
         'Cordialement,\nInes Duarte\nDesk Support', 'irt', 'RE: ', "Merci, l'accès fonctionne de nouveau.",
         "l'accès fonctionne de nouveau", dict(lang='fr', cs='iso-8859-1')),
        (apple, P('Jake Rivera', 'jake.rivera@example.net'), 'Billing address change',
         'Please change our billing address to 200 Pine St, Suite 400, Portland OR 97204. Thanks, Jake',
         'Suite 400, Portland', ['iphone', 'plain-only'], None, None, None, None, None,
         dict(iphone=True, plain_only=True, tz=-8)),
        (gmail, P('Olivia Bennett', 'olivia@bennett-bakery.example'), 'Cancel subscription at end of term',
         'Hello,\n\nplease cancel our subscription at the end of the current term (December 31).\nWe are '
         'closing the second shop.\n\nOlivia Bennett', 'We are closing the second shop', ['gmail'],
         'Done: the subscription ends on December 31 and will not renew. Your data stays available until\n'
         'January 31 for export.', 'irt', 'Re: ', 'Thanks for confirming. We may be back next year!',
         'We may be back next year', dict(tz=0)),
        (yahoo, P('Mary Collins', 'marycollins@yahoo.example'), 'Newsletter signup form not working',
         'Hi,\n\nthe signup form on our website (built with your form builder) does nothing when I click '
         'Subscribe.\n\nMary', 'does nothing when I click', ['yahoo'], None, None, None, None, None, dict()),
        (apple, P('Noah Fischer', 'noah.fischer@alpenblick.example'), 'Two-factor codes arrive late',
         'Hello,\n\nour SMS two-factor codes arrive 5-10 minutes late, by then they have expired.\n\nNoah',
         'arrive 5-10 minutes late', ['apple'],
         'Our SMS provider had delays for Swiss numbers; we have switched the route. Codes should arrive\n'
         'within seconds now.', 'both', 'Re: ', 'Codes come in instantly now, thank you.',
         'Codes come in instantly now', dict(tz=1)),
        (gmail, P('Diego Ramírez', 'diego.ramirez@example.mx.example'), 'Error al importar contactos',
         'Hola,\n\nal importar el archivo de contactos aparece «columna desconocida: teléfono».\n\nSaludos,\nDiego',
         'columna desconocida: teléfono', ['gmail', 'lang:es'],
         'Hola Diego,\n\nel importador espera el nombre de columna "phone". Cámbielo y vuelva a intentarlo.\n\n'
         'Saludos,\nTomas Ortega\nDesk Support', 'both', 'Re: ', '¡Perfecto, ya funciona! Gracias.',
         'ya funciona', dict(tz=-6)),
        (outlook, P('Giulia Bianchi', 'g.bianchi@ferraro-spa.example'), 'Richiesta di fattura elettronica',
         'Buongiorno,\n\nper la fatturazione elettronica ci serve il vostro codice destinatario SDI.\n\n'
         'Cordiali saluti,\nGiulia Bianchi\nFerraro S.p.A.', 'codice destinatario SDI', ['outlook', 'lang:it'],
         'Buongiorno,\n\nil nostro codice destinatario SDI è M5UXCR1.\n\nCordiali saluti,\nTomas Ortega\nDesk Support',
         'irt', 'R: ', 'Grazie, ricevuto.', 'Grazie, ricevuto', dict(lang='it', cs='utf-8')),
        (thunderbird, P('Elena Popescu', 'elena.popescu@example.ro.example'), 'Question about data retention',
         'Hello,\n\nhow long do you keep closed tickets? Our policy requires deletion after 24 months.\n\nElena',
         'requires deletion after 24 months', ['thunderbird'], None, None, None, None, None, dict(tz=2)),
        (mutt, P('Sven Ahlberg', 'sven@ahlberg.example'), 'Feature: webhook retries',
         'Hi,\n\nit would help if failed webhooks were retried with exponential backoff instead of\n'
         'three times within a minute.\n\nSven', 'retried with exponential backoff', ['mutt', 'plain-only'],
         None, None, None, None, None, dict(tz=1)),
        (gmail, P('Hiroshi Yamamoto', 'hiroshi.yamamoto@example.jp.example'), 'Timezone wrong in SLA report',
         'Hello,\n\nthe SLA report shows all times in UTC although our account time zone is Asia/Tokyo.\n\n'
         'Best regards,\nHiroshi Yamamoto', 'shows all times in UTC', ['gmail'],
         'The report used the time zone of the user who created it. We have changed it to use the account\n'
         'time zone.', 'both', 'Re: ', 'Looks right now, thanks.', 'Looks right now', dict(tz=9)),
        (outlook, P('Paula Schmidt', 'paula.schmidt@example.at.example'), 'Mass e-mail bounced - please check',
         'Hallo,\n\nour campaign from yesterday bounced for about 20% of recipients with "550 SPF fail".\n'
         'Did something change in your sending setup?\n\nPaula Schmidt', 'with "550 SPF fail"', ['outlook'],
         'Your domain\'s SPF record does not include our sending servers yet. Add\n'
         '"include:spf.desk.example" to the TXT record.', 'irt', 'AW: ',
         'Done, SPF record updated. We will resend tomorrow.', 'SPF record updated', dict(lang='de', cs='utf-8')),
        (naver, P('한지민', 'jimin.han@naver.example'), '상담원 추가 문의',
         '안녕하세요.\n상담원 계정을 3명 추가하고 싶습니다.\n비용이 어떻게 되는지 알려주세요.', '상담원 계정을 3명 추가하고',
         ['naver', 'lang:ko', 'html-only', 'cs:utf-8-base64'], None, None, None, None, None, dict()),
        (apple, P("Liam O'Connor", 'liam.oconnor@example.ie.example'), 'Password reset mail never arrives',
         'Hi,\n\nI requested a password reset three times, nothing arrives (checked spam too).\n\nLiam',
         'nothing arrives (checked spam too)', ['iphone'],
         'Your mail server rejected our reset mails as spam. We have sent you a reset link from a\n'
         'different route; please check again.', 'both', 'Re: ', 'Got it this time, thanks!',
         'Got it this time', dict(iphone=True, tz=0)),
        (gmail, P('Zainab Yusuf', 'zainab.yusuf@example.ng.example'), 'Calendar invites show wrong time',
         'Hi,\n\nmeeting invites sent from the CRM show one hour off in Outlook since the clocks changed.\n\nZainab',
         'show one hour off in Outlook', ['gmail'], None, None, None, None, None, dict(tz=1)),
        (outlook, P('Marta Gil', 'marta.gil@example.es.example'), 'Consulta sobre la factura de octubre',
         'Hola,\n\nen la factura de octubre aparece un cargo de 150 € por «servicios adicionales» que no '
         'reconocemos.\n\nSaludos,\nMarta Gil', 'servicios adicionales', ['outlook', 'lang:es', 'cs:iso-8859-15'],
         'Hola Marta,\n\nes la formación en línea del 12 de octubre que reservó su equipo.\n\nSaludos,\n'
         'Tomas Ortega\nDesk Support', 'both', 'RE: ', 'Muchas gracias por la aclaración.',
         'Muchas gracias por la aclaración', dict(lang='es', cs='iso-8859-15')),
        (gmail, P('윤서준', 'seojun.yoon@example.com'), 'API 키 재발급 요청',
         '안녕하세요.\nAPI 키가 유출된 것 같아 재발급을 요청드립니다.\n\n윤서준', '재발급을 요청드립니다',
         ['gmail', 'lang:ko', 'cs:utf-8-base64'],
         '윤서준님 안녕하세요.\n\n기존 키를 폐기하고 새 키를 발급했습니다. 관리 화면에서 확인해 주세요.\n\n'
         '감사합니다.\nDesk Support', 'irt', 'Re: ', '새 키로 교체 완료했습니다. 감사합니다.',
         '새 키로 교체 완료했습니다', dict(tz=9, cjk=True, lang='ko')),
        (thunderbird, P('Klaus Brenner', 'k.brenner@example.de.example'), 'Rechnungsadresse ändern',
         'Guten Tag,\n\nbitte ändern Sie unsere Rechnungsadresse auf: Brenner & Söhne KG, Hafenstraße 12, '
         '20457 Hamburg.\n\nMfG\nKlaus Brenner', 'Hafenstraße 12', ['thunderbird', 'lang:de', 'cs:iso-8859-1'],
         'Guten Tag Herr Brenner,\n\ndie Rechnungsadresse ist geändert und gilt ab der nächsten Rechnung.\n\n'
         'Viele Grüße\nLukas Brandt\nDesk Support', 'irt', 'Re: ', 'Danke, passt so.', 'Danke, passt so',
         dict(cs='ISO-8859-1', cte='quoted-printable', lang='de-DE', attr='Am {d}.{m}.{y} um {H}:{M} schrieb {name}:')),
        (apple, P('Isabelle Roy', 'isabelle.roy@example.ca.example', enc='Q'), 'Réinitialisation du mot de passe',
         'Bonjour,\n\nje n’arrive pas à réinitialiser mon mot de passe depuis l’application.\n\nIsabelle',
         'réinitialiser mon mot de passe', ['apple', 'lang:fr'], None, None, None, None, None, dict(tz=-5)),
        (yahoo, P('Paul Adeyemi', 'pauladeyemi@yahoo.example'), 'Refund request for unused seats',
         'Hello,\n\nwe paid for 20 seats in October but only activated 12.\nCan we get a refund for the 8 unused '
         'seats?\n\nPaul', 'only activated 12', ['yahoo'],
         'Unused seats are not refunded, but I have reduced your plan to 12 seats from November, so\n'
         'you will not pay for them again.', 'both', 'Re: ', 'Fair enough, thanks for reducing it.',
         'thanks for reducing it', dict(tz=1)),
        (outlook, P('Henry Zhou', 'henry.zhou@example.sg.example'), 'Account locked after password change',
         'Hello,\n\nafter changing my password this morning my account is locked and the unlock mail\n'
         'never arrives.\n\nHenry Zhou', 'the unlock mail', ['outlook', 'plain-only'],
         'Your account is unlocked. The unlock mail went to an old address; we have updated it.', 'irt', 'RE: ',
         'I can log in again, thank you.', 'I can log in again', dict(plain_only=True, tz=8)),
        (gmail, P('Maya Singh', 'maya.singh@example.in.example'), 'Report export: PDF is blank',
         'Hi,\n\nthe PDF export of the pipeline report is blank (sample attached), the CSV export works.\n\nMaya',
         'the CSV export works', ['gmail', 'attachment'],
         'Thanks for the sample. The PDF renderer timed out on reports with charts; fixed now.', 'both', 'Re: ',
         'The PDF has content now. Thanks!', 'The PDF has content now', dict(tz=5.5, atts=[
             binpart('application/pdf; name="pipeline-report.pdf"', tiny_pdf('blank'),
                     disp='attachment; filename="pipeline-report.pdf"',
                     extra=[('X-Attachment-Id', 'f_m3kx1q7f0'), ('Content-ID', '<f_m3kx1q7f0>')])])),
    ]
    SLUGS = ['de-datev-export', 'webinar-link', 'fr-contact-sync', 'photo-upload', 'nl-api-limits',
             'pt-password-reset', 'add-admins', 'saml-audience', 'ldap-umlauts', 'ko-receipt', 'ko-html-only-delete',
             'zh-utf8-login', 'ja-login', 'sv-invoice', 'dark-mode', 'de-gdpr-backups', 'pl-report-export',
             'fr-iso88591-access', 'billing-address', 'cancel-subscription', 'signup-form', 'two-factor-late',
             'es-import-error', 'it-sdi-code', 'data-retention', 'webhook-retries', 'sla-timezone', 'spf-bounce',
             'ko-add-agents', 'password-reset-mail', 'calendar-offset', 'es-iso885915-invoice', 'ko-base64-api-key',
             'de-iso88591-address', 'fr-password', 'refund-seats', 'plain-text-locked', 'pdf-attachment-blank']
    assert len(SLUGS) == len(C)
    CT = []
    for i, (cl, who, sj, body, snip, tags, agent_text, mode, rprefix, rbody, rsnip, kw) in enumerate(C):
        t = newlabel(who, sj)
        short = '%s-new-%s' % (tags[0], SLUGS[i])
        f, m = emit(short, cl(who, sj, body, T(17 + i % 5 * 6), 'c%02d' % i, **kw), 'new', t, '-', snip,
                    '%s first mail%s' % (CLIENT_NAMES[tags[0]], describe(tags[1:])), tags + ['first-mail'],
                    crlf=(cl is outlook and i % 3 == 0))
        CT.append((t, cl, who, sj, agent_text, mode, rprefix, rbody, rsnip, kw, m))

    # the replies to the table's tickets, later the same week
    TOKEN_OK = {outlook, gmail, apple, thunderbird, mutt, yahoo, becky, webhtml}
    for i, (t, cl, who, sj, agent_text, mode, rprefix, rbody, rsnip, kw, m) in enumerate(CT):
        if not mode:
            continue
        reply(t, agent_text, greet=not agent_text.startswith(('Hallo', 'Bonjour', 'Hola', 'Olá', 'Buongiorno',
                                                               'Guten', '정하윤', '李', '佐藤', '윤서준')))
        kw = {k: v for k, v in kw.items() if k not in ('atts',)}
        tok = cl in TOKEN_OK and not kw.get('cjk')
        rk = dict(kw)
        if mode == 'both':
            rk.update(irt=OUT(t), refs=[m, OUT(t)], q=aq(t, token=tok))
            note = 'reply with In-Reply-To and References' + (', token quoted' if tok else '')
            rt = ['reply:irt+refs'] + (['reply:token-quoted'] if tok else [])
        elif mode == 'irt':
            rk.update(irt=OUT(t), q=aq(t, token=False))
            note = 'reply with In-Reply-To only, no token in the quote'
            rt = ['reply:irt-only']
        elif mode == 'refs':
            rk.update(refs=[m, OUT(t)], q=aq(t, token=False))
            note = 'reply with References only (no In-Reply-To), no token in the quote'
            rt = ['reply:refs-only']
        elif mode == 'subject':
            note = 'mail without reply headers or quote from the requester, [#N] in the subject'
            rt = ['reply:subject-token']
        subject = (rprefix % NUM(t)) if mode == 'subject' else rprefix + sj
        lang_tags = [x for x in C[[c[0] for c in CT].index(t)][5] if x.startswith(('lang:', 'cs:', 'html-only',
                                                                                     'plain-only'))]
        ctag = C[[c[0] for c in CT].index(t)][5][0]
        emit('%s-reply-%s' % (ctag, SLUGS[[c[0] for c in CT].index(t)]),
             cl(who, subject, rbody, T(40 + i * 3 % 50), 'r%02d' % i, **rk), 'attach', t, '-', rsnip,
             '%s %s%s' % (CLIENT_NAMES[ctag], note, describe(lang_tags, ';')), [ctag] + rt + lang_tags,
             crlf=(cl is outlook and i % 4 == 1))

    ct = {SLUGS[i]: CT[i] for i in range(len(CT))}

    # ===================================================================
    # Thursday: out-of-office replies to our replies, one per header flavour
    # ===================================================================
    reply(t_jonas, 'Der Spediteur hat die Palette gefunden; sie wird morgen zugestellt.')
    d = T(1)
    f_abw, _ = emit('exchange-de-abwesenheitsnotiz',
                    oof('exchange', jonas, t_jonas, d, 'jonasoof', 'Abwesenheitsnotiz: Re: ' + TK[t_jonas]['subj'],
                        'Vielen Dank für Ihre Nachricht.\n\nIch bin bis einschließlich 13.11. nicht im Büro und habe '
                        'keinen Zugriff auf meine E-Mails.\nIn dringenden Fällen wenden Sie sich bitte an '
                        'lager@bergmann-logistik.example.\n\nMit freundlichen Grüßen\nJonas Weber',
                        [('Thread-Topic', 'Re: ' + TK[t_jonas]['subj']), ('Thread-Index', 'AQHZ' + rnd('jo', 24, B64A)),
                         ('Auto-Submitted', 'auto-replied'), ('X-Auto-Response-Suppress', 'All'),
                         ('X-MS-Exchange-Inbox-Rules-Loop', 'j.weber@bergmann-logistik.example'),
                         ('Content-Language', 'de-DE')], cs='iso-8859-1'),
                    'attach', t_jonas, 'auto_submitted', 'nicht im Büro und habe',
                    'German Exchange out-of-office "Abwesenheitsnotiz:", iso-8859-1 QP, Auto-Submitted + '
                    'X-Auto-Response-Suppress', ['oof', 'oof:exchange', 'lang:de', 'multi-signal'], crlf=True)

    reply(t_marco, 'Staging uses its own secret; you find it under Settings > Environments > Staging.')
    d = T(2)
    f_oof_xar, _ = emit('oof-x-autoreply-only',
                        oof('plain', marco, t_marco, d, 'marcooof', 'Risposta automatica: Re: ' + TK[t_marco]['subj'],
                            'Sono in ferie fino al 16 novembre con accesso limitato alla posta.\n'
                            'I am on holiday until November 16 with limited access to e-mail.\n\nMarco Rossi',
                            [('X-Autoreply', 'yes')], refs=False),
                        'attach', t_marco, 'autoreply_header', 'Sono in ferie fino al 16',
                        'out-of-office with only X-Autoreply: yes (no Auto-Submitted), In-Reply-To our reply',
                        ['oof', 'oof:x-autoreply'])

    reply(t_oliver, 'We have added a note about the column type to the import documentation.')
    d = T(1)
    f_oof_xarsp, _ = emit('oof-x-autorespond-only',
                          oof('plain', oliver, t_oliver, d, 'oliveroof', 'Out of office',
                              'Thanks for your mail. I am travelling until Monday and will reply then.\n\nOliver',
                              [('X-Autorespond', 'Out of office'), ('X-Mailer', 'cPanel autoresponder')]),
                          'attach', t_oliver, 'autoreply_header', 'I am travelling until Monday',
                          'hosting-panel autoresponder with only X-Autorespond', ['oof', 'oof:x-autorespond'])

    reply(t_fatima, 'We have also added monitoring for that cache node so it cannot fail silently again.')
    d = T(3)
    f_oof_prec, _ = emit('oof-precedence-auto-reply-only',
                         oof('plain', fatima, t_fatima, d, 'fatimaoof', 'Away: Re: ' + TK[t_fatima]['subj'],
                             'I am away from the office until November 12 and will answer your message when I '
                             'return.\n\nFatima Al-Sayed', [('Precedence', 'auto_reply')], tz=4),
                         'attach', t_fatima, 'precedence', 'away from the office until November 12',
                         'vacation program that only sets Precedence: auto_reply', ['oof', 'oof:precedence'])

    reply(t_henrik, 'For your records: the agreement is also available under Settings > Legal.')
    d = T(2)
    f_oof_xars, _ = emit('oof-x-autoresponder',
                         oof('plain', henrik, t_henrik, d, 'henrikoof', 'Fravær: Re: ' + TK[t_henrik]['subj'],
                             'Jeg er på kurs til og med 11. november.\nI am attending a course until 11 November.\n\n'
                             'Henrik Olsen', [('X-Autoresponder', 'vacation'), ('X-Mailer', 'Fjordklinikk Mail')]),
                         'attach', t_henrik, 'autoreply_header', 'Jeg er på kurs til og med',
                         'Norwegian out-of-office with X-Autoresponder', ['oof', 'oof:x-autoresponder', 'lang:no'])

    reply(t_kevin, 'Yes, a 30 day trial with SSO is possible; I have enabled it on your trial account.')
    d = T(2)
    f_oof_arf, _ = emit('oof-x-autoreply-from',
                        oof('plain', kevin, t_kevin, d, 'kevinoof', 'Auto reply: Re: ' + TK[t_kevin]['subj'],
                            'I am out until Wednesday. For urgent freight questions call +44 20 7946 0300.\n\nKevin',
                            [('X-AutoReply-From', 'kevin.osei@example.net'), ('X-Mail-Autoreply', 'yes')], tz=0),
                        'attach', t_kevin, 'autoreply_header', 'I am out until Wednesday',
                        'autoresponder with X-AutoReply-From and X-Mail-Autoreply', ['oof', 'oof:x-autoreply-from'])

    reply(t_nina, 'A short summary for Mark: the token is renewed and monitored now.')
    d = T(2)
    f_oof_mar, _ = emit('oof-x-mail-autoreply',
                        oof('plain', nina, t_nina, d, 'ninaoof', 'Out of Office: RE: ' + TK[t_nina]['subj'],
                            'Nina is on parental leave. Please write to it-support@polarline.example.',
                            [('X-Mail-Autoreply', 'yes')], refs=False),
                        'attach', t_nina, 'autoreply_header', 'Nina is on parental leave',
                        'out-of-office with X-Mail-Autoreply only', ['oof', 'oof:x-mail-autoreply'])

    reply(t_greg, 'Attached is the incident report for your change board.')
    d = T(2)
    f_oof_fc, _ = emit('oof-firstclass-machinegenerated',
                       oof('plain', greg, t_greg, d, 'gregoof', 'Re: ' + TK[t_greg]['subj'] + ' [Autoreply]',
                           'Greg Palmer is away on business until Nov 10. Urgent production issues: '
                           'oncall@tallpine.example.', [('X-FC-MachineGenerated', 'true'),
                                                         ('X-Mailer', 'FirstClass 12.1 (build 11053)')], tz=-7),
                       'attach', t_greg, 'autoreply_header', 'is away on business until Nov 10',
                       'FirstClass-style autoreply with X-FC-MachineGenerated: true', ['oof', 'oof:x-fc'])

    reply(t_tom, 'Your order has left our warehouse; tracking number 1Z999AA10123456784.')
    d = T(2)
    f_oof_xa, _ = emit('oof-x-auto-reply',
                       oof('plain', tom, t_tom, d, 'tomoof', 'Re: ' + TK[t_tom]['subj'],
                           'Hi, I am on leave until the 16th. Your message will not be forwarded.\n\nTom',
                           [('X-Auto-Reply', 'yes'), ('X-Mailer', 'WebMail/3.4 (webmail.example)')], refs=False),
                       'attach', t_tom, 'autoreply_header', 'I am on leave until the 16th',
                       'autoreply with X-Auto-Reply', ['oof', 'oof:x-auto-reply'])

    c = ct['refund-seats']
    reply(c[0], 'Your plan change to 12 seats is confirmed; the next invoice shows the new amount.')
    d = T(2)
    f_oof_post, _ = emit('oof-x-post-messageclass',
                         oof('plain', c[2], c[0], d, 'pauloof', 'AutoReply: Re: ' + c[3],
                             'Thank you for your e-mail. I am currently out of the office with no e-mail access.',
                             [('X-POST-MessageClass', '9; Autoresponder'), ('X-Mailer', 'Post Mail 2.4')], tz=1),
                         'attach', c[0], 'autoreply_header', 'I am currently out of the office',
                         'autoresponder marked X-POST-MessageClass: 9; Autoresponder', ['oof', 'oof:x-post'])

    c = ct['sla-timezone']
    reply(c[0], 'One more note: the scheduled SLA report now also uses the account time zone.')
    d = T(2)
    f_oof_rp, _ = emit('oof-sieve-vacation-null-sender',
                       oof('plain', c[2], c[0], d, 'hiroshioof', 'Auto: Re: ' + c[3],
                           'I am out of the office until November 11 (public holiday week in our office).\n'
                           'Hiroshi Yamamoto', [('Auto-Submitted', 'auto-replied (vacation)'),
                                                ('Precedence', 'bulk')], rp=None, tz=9),
                       'attach', c[0], 'empty_return_path', 'public holiday week in our office',
                       'Sieve vacation reply: Return-Path <> (RFC 5230), Auto-Submitted: auto-replied (vacation) with a '
                       'comment, Precedence: bulk - the first reason in order is the null sender',
                       ['oof', 'oof:sieve', 'multi-signal'])

    c = ct['saml-audience']
    reply(c[0], 'We have documented the audience value for your team in the SSO settings page.')
    d = T(2)
    f_oof_multi, _ = emit('oof-x-autoreply-and-precedence',
                          oof('plain', c[2], c[0], d, 'rahuloof', 'On leave: Re: ' + c[3],
                              'I am on leave until Nov 18. For SSO matters contact it@nimbus-labs.example.',
                              [('X-Autoreply', 'yes'), ('Precedence', 'bulk'),
                               ('X-Auto-Response-Suppress', 'All')], tz=5.5),
                          'attach', c[0], 'autoreply_header', 'For SSO matters contact',
                          'X-Autoreply + X-Auto-Response-Suppress + Precedence: bulk: autoreply_header comes first',
                          ['oof', 'oof:x-autoreply', 'multi-signal'])

    # a helpdesk on the customer's side acknowledges our reply and quotes it (token), with its own [#N]
    c = ct['two-factor-late']
    reply(c[0], 'Could you confirm the codes arrive within seconds for all your agents?')
    d = T(3)
    f_ack, _ = emit('customer-helpdesk-ack-quotes-token',
                    oof('plain', P('Alpenblick IT Service Desk', 'servicedesk@alpenblick.example'), c[0], d, 'alpack',
                        '[#41] Received: Re: ' + c[3],
                        'Thank you for contacting the Alpenblick IT Service Desk.\nYour request has been registered '
                        'as ticket #41. We will get back to you shortly.\n\n--- original message ---',
                        [('Auto-Submitted', 'auto-replied'), ('X-Mailer', 'Alpenblick ServiceDesk 9')], irt=False,
                        refs=False, quote=gt(aq(c[0]).body)),
                    'attach', c[0], 'auto_submitted', 'has been registered as ticket #41',
                    'the customer\'s own help desk auto-acknowledges our reply: no In-Reply-To, its own [#41] in the '
                    'subject (not ours: sender is no participant), our token in the quote threads it',
                    ['oof', 'reply:token-only', 'helpdesk-loop'])

    # ===================================================================
    # bounces of our replies
    # ===================================================================
    c = ct['calendar-offset']
    reply(c[0], 'Thanks for reporting; we fixed the time zone of invites created after the clock change.')
    d = T(5)
    zain = c[2]
    gb = '000000000000%s' % rnd('gdsn', 16)
    gb2 = '000000000000%s' % rnd('gdsn2', 16)
    gb3 = '000000000000%s' % rnd('gdsn3', 16)
    rc = 'zainab.y@example.ng.example'
    gplain = ("\n** Address not found **\n\nYour message wasn't delivered to %s because the address couldn't be found, "
              "or is unable to receive mail.\n\nLearn more here: https://support.google.example/mail/answer/6596\n\n"
              "The response was:\n\nThe email account that you tried to reach does not exist. Please try "
              "double-checking the recipient's email address for typos or unnecessary spaces.\n" % rc)
    ghtml = ('<html>\n<head>\n<style>\n* {\nfont-family:Roboto, "Helvetica Neue", Helvetica, Arial, sans-serif;\n}\n'
             '</style>\n</head>\n<body>\n<table cellpadding="0" cellspacing="0" class="email-wrapper" '
             'style="padding-top:32px;background-color:#ffffff;"><tbody>\n<tr><td>\n'
             '<img src="cid:icon.png" width="32" height="32" alt="Error Icon"/>\n'
             '<p style="font-size:24px">Address not found</p>\n'
             "<p>Your message wasn't delivered to <a style='color:#212121;text-decoration:none'><b>%s</b></a> because "
             "the address couldn't be found, or is unable to receive mail.</p>\n"
             '</td></tr>\n</tbody></table>\n</body>\n</html>\n' % rc)
    rel = multi('related', gb2, [multi('alternative', gb3, [text('text/plain; charset="UTF-8"', gplain, 'utf-8', None),
                                                             text('text/html; charset="UTF-8"', ghtml, 'utf-8', None)]),
                                  binpart('image/png; name="icon.png"', PNG_1PX, disp='attachment; filename="icon.png"',
                                          cid='icon.png')])
    ds = ('Reporting-MTA: dns; googlemail.example\nReceived-From-MTA: dns; mx-out.desk.example\nArrival-Date: %s\n'
          'X-Original-Message-ID: <%s>\n\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n'
          'Remote-MTA: dns; aspmx.google.example. (2001:db8:4860:4864:20::1b, the server for the domain '
          'example.ng.example.)\nDiagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not '
          'exist.\nLast-Attempt-Date: %s\n' % (rfcdate(d - timedelta(seconds=5), -8), OUT(c[0]), rc, rfcdate(d, -8)))
    root = multi('report', gb, [rel, text('message/delivery-status', ds, 'ascii', None),
                                text('message/rfc822', our_message(c[0], [zain, P(None, rc)], number=False),
                                     'ascii', None)], params='; report-type=delivery-status')
    gmid = '%s.%s.SMTPIN_ADDED_MISSING@mx.google.example' % (rnd('gdsnm', 8), rnd('gdsnm2', 6))
    hs = [('Return-Path', '<>'), ('Delivered-To', 'support@desk.example'),
          rcv_ours(d, 'mail-sor-f69.google.example', '198.51.100.69', 'gdsn'),
          ('Received', 'by 2002:a05:6402:35c8:b0:5f1:%s with SMTP id %s;\n        %s' % (
              rnd('gx', 4), rnd('gx2', 16, 'abcdefghijklmnopqrstuvwxyz0123456789'), rfcdate(d, -8) + ' (PST)')),
          ('X-Google-Smtp-Source', 'AGHT+I' + rnd('gdsns', 50, B64A) + '=='),
          ('Content-Type', root.headers[0][1].replace('multipart/report; boundary="%s"; report-type=delivery-status'
                                                      % gb, 'multipart/report; boundary="%s"; '
                                                      'report-type=delivery-status' % gb)),
          ('Date', rfcdate(d, -8, pad=False) + ' (PST)'),
          ('From', 'Mail Delivery Subsystem <mailer-daemon@googlemail.example>'), ('To', 'support@desk.example'),
          ('Auto-Submitted', 'auto-replied'), ('Message-ID', '<%s>' % gmid),
          ('Subject', 'Delivery Status Notification (Failure)'), ('References', '<%s>' % OUT(c[0])),
          ('In-Reply-To', '<%s>' % OUT(c[0])), ('X-Failed-Recipients', rc)]
    f_gdsn, _ = emit('gmail-dsn-failure',
                     (''.join('%s: %s\n' % kv for kv in hs) + 'MIME-Version: 1.0\n' + '\n' + root.body, gmid),
                     'attach', c[0], 'delivery_report', "the address couldn't be found",
                     'Gmail "Delivery Status Notification (Failure)" from mailer-daemon@: multipart/report > '
                     'related > alternative + icon, message/delivery-status, message/rfc822 (our reply)',
                     ['bounce', 'bounce:gmail'])

    c = ct['data-retention']
    reply(c[0], 'Closed tickets are kept until you delete them; a retention rule can delete them after 24 months.')
    d = T(60 * 4)
    own = postfix_bounce(c[0], 'owndelay', d, 'elena.popescu@example.ro.example', '4.4.1',
                         '451 4.4.1 Connection timed out', 'desk.example', '192.0.2.10',
                         our_headers(c[0], [c[2]]), 'connect to mx.example.ro.example[203.0.113.91]:25: Connection '
                         'timed out', own=True, delayed=True)
    f_own_dsn, _ = emit('own-mta-delayed-dsn', own, 'attach', c[0], 'delivery_report',
                        'could not be delivered for more than 4',
                        'our own MTA (MAILER-DAEMON@desk.example) reports a delay (Action: delayed): a delivery report '
                        'first, although the sender is our own address too', ['bounce', 'bounce:delayed', 'multi-signal',
                                                                             'own-address'])

    c = ct['ldap-umlauts']
    reply(c[0], 'Connector 3.8.2 is also published in the package repository now.')
    d = T(4)
    qm = ('Hi. This is the qmail-send program at mail.sokolov-it.example.\n'
          "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
          "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
          '<it-team@sokolov-it.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n'
          '--- Below this line is a copy of the message.\n\n' +
          our_message(c[0], [c[2]], [P(None, 'it-team@sokolov-it.example')], number=False))
    qmid = '%s.%s.qmail@mail.sokolov-it.example' % (int(d.timestamp()), rnd('qm', 5, '0123456789'))
    hs = [('Return-Path', '<>'), ('Delivered-To', 'support@desk.example'),
          rcv_ours(d, 'mail.sokolov-it.example', '203.0.113.77', 'qm', tls=False),
          ('Date', '%d Nov 2026 %s -0000' % (d.day, tzd(d, 0).strftime('%H:%M:%S'))),
          ('From', 'MAILER-DAEMON@mail.sokolov-it.example'), ('To', 'support@desk.example'),
          ('Subject', 'failure notice'), ('Message-ID', '<%s>' % qmid)]
    f_qmail, _ = emit('qmail-plain-bounce-token',
                      (''.join('%s: %s\n' % kv for kv in hs) + '\n' + qm, qmid),
                      'attach', c[0], 'system_sender', 'This is the qmail-send program',
                      'qmail bounce: plain text, no MIME, no report; from MAILER-DAEMON (system_sender); the returned '
                      'copy of our reply carries the token, so rule 3 threads it', ['bounce', 'bounce:qmail',
                                                                                     'system-sender', 'reply:token-only'])

    c = ct['webinar-link']
    reply(c[0], 'The other recordings of the series are listed on the same page.')
    d = T(3)
    ab = '----=_Part_%s' % rnd('appl', 12, '0123456789')
    root = multi('mixed', ab, [
        text('text/plain; charset=us-ascii', 'Delivery has failed to these recipients or groups:\n\n'
             'webinars@example.com\nThe recipient mailbox is disabled by the administrator.\n', 'ascii', '7bit'),
        text('message/delivery-status', 'Reporting-MTA: dns; gate2.example.com\n\nFinal-Recipient: rfc822; '
             'webinars@example.com\nAction: failed\nStatus: 5.2.1\nDiagnostic-Code: smtp; 550 5.2.1 Mailbox disabled\n',
             'ascii', None),
        text('message/rfc822', our_message(c[0], [c[2]], [P(None, 'webinars@example.com')]), 'ascii', None)])
    f_appl, _ = emit('gateway-bounce-multipart-mixed',
                     generic(P('Mail Gateway', 'postmaster@gate2.example.com'), 'Undeliverable: Re: ' + c[3], root, d,
                             'appl', mid='%s@gate2.example.com' % rnd('applm', 20), rp=None),
                     'attach', c[0], 'delivery_report', 'mailbox is disabled by the administrator',
                     'a mail gateway\'s bounce as multipart/mixed (not report) with a message/delivery-status part at '
                     'the top level and our reply as message/rfc822', ['bounce', 'bounce:mixed', 'multi-signal'])

    d = T(50)
    spam_hdr = ('Received: from [203.0.113.200] (unknown [203.0.113.200])\n\tby mx.example.org (Postfix) with ESMTP '
                'id 9F1E2D3C4B\n\tfor <harold.finch@example.org>; %s (UTC)\nFrom: "Desk Support" '
                '<support@desk.example>\nTo: harold.finch@example.org\nSubject: Your account will be suspended\n'
                'Date: %s\nMessage-ID: <20261105084412.77381.qmail@dsl-203-0-113-200.dyn.example>\nMIME-Version: 1.0\n'
                'Content-Type: text/html\n' % (rfcdate(d - timedelta(minutes=3)), rfcdate(d - timedelta(minutes=4))))
    bs = postfix_bounce(None, 'backscatter', d, 'harold.finch@example.org', '5.1.1',
                        '550 5.1.1 <harold.finch@example.org>: Recipient address rejected: User unknown',
                        'mx.example.org', '198.51.100.40', spam_hdr,
                        'host mailstore1.example.org[198.51.100.41] said: 550 5.1.1\n    User unknown (in reply to '
                        'RCPT TO command)')
    t_bs = newlabel(P(None, 'MAILER-DAEMON@mx.example.org'), 'Undelivered Mail Returned to Sender')
    f_bs, _ = emit('postfix-bounce-backscatter-unknown', bs, 'new', t_bs, 'delivery_report', 'User unknown (in reply '
                   'to RCPT TO', 'backscatter: a bounce of spam that forged our address; the embedded Message-ID is '
                   'unknown, so a new ticket (machine)', ['bounce', 'bounce:postfix', 'bounce:unknown'])

    reply(t_vera, 'Use the CNAME target custom.help.desk.example; we issue the TLS certificate automatically.')
    d = T(60 * 4 + 12)
    sm = ('The original message was received at %s\nfrom mx-out.desk.example [192.0.2.10]\n\n'
          '   ----- Transcript of session follows -----\n451 4.4.1 reply: read error from mail.lindholm-design.example.\n'
          'vera@lindholm-design.example... Deferred: Connection reset by mail.lindholm-design.example.\n'
          'Warning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n\n'
          '   ----- Original message headers follow -----\n\n' % rfcdate(d - timedelta(hours=4))) + our_headers(
        t_vera, [vera], dt=d - timedelta(hours=4), number=False, irt=mid_vera)
    smid = '%s.%s@mail.lindholm-design.example' % (tzd(d, 0).strftime('%Y%m%d%H%M'), rnd('sm', 6, UPHEX))
    hs = [('Return-Path', '<>'), ('Delivered-To', 'support@desk.example'),
          rcv_ours(d, 'mail.lindholm-design.example', '203.0.113.61', 'sm', tls=False),
          ('Date', rfcdate(d, 2)), ('From', 'Mail Delivery Subsystem <MAILER-DAEMON@mail.lindholm-design.example>'),
          ('Message-Id', '<%s>' % smid), ('To', '<support@desk.example>'), ('MIME-Version', '1.0'),
          ('Content-Type', 'text/plain; charset=us-ascii'), ('Subject', 'Warning: could not send message for past 4 hours'),
          ('Auto-Submitted', 'auto-generated (warning-timeout)')]
    t_sm = newlabel(P(None, 'MAILER-DAEMON@mail.lindholm-design.example'), 'Warning: could not send message')
    f_sm, _ = emit('sendmail-plain-warning-headers-only',
                   (''.join('%s: %s\n' % kv for kv in hs) + '\n' + sm, smid),
                   'new', t_sm, 'system_sender', 'message still undelivered after 4 hours',
                   'old sendmail delay warning as plain text (no multipart/report): our reply\'s headers are in the '
                   'body text only, no token - by the rules a new ticket; MAILER-DAEMON comes before Return-Path <> '
                   'and Auto-Submitted', ['bounce', 'bounce:sendmail-plain', 'system-sender', 'multi-signal'])

    # ===================================================================
    # Friday: lists, newsletters, notifications, loops
    # ===================================================================
    def listmail(short, frm, subject, body, extra, machine, snippet, note, tags, mid, host, html_body=None,
                 expect='new', label=None, sender_rp=None, crlf=False, date_tz=0, cs='utf-8'):
        if html_body:
            root = multi('alternative', '=_%s' % rnd(short, 24), [
                text('text/plain; charset=%s' % cs, body, cs, 'quoted-printable'),
                text('text/html; charset=%s' % cs, html_body, cs, 'quoted-printable')])
        else:
            root = text('text/plain; charset="%s"' % cs, body, cs, '7bit' if is_ascii(body) else 'quoted-printable')
        t = label or newlabel(frm, subject)
        return emit(short, generic(frm, subj(subject), root, T(19), short, mid=mid, extra=extra, host=host,
                                   rp=sender_rp if sender_rp is not None else frm.addr, date_tz=date_tz),
                    expect, t, machine, snippet, note, tags, crlf=crlf)

    lst = 'crm-users.lists.opensource.example'
    f_mm2, m_mm2 = listmail(
        'mailman2-list-post', P('Dmitri Volkov', 'dmitri@volkov.example'), '[crm-users] How do you pause SLAs on '
        'holidays?', 'Hi all,\n\nhow do you pause SLA clocks over public holidays? We tried business calendars but\n'
        'the first response target still fires on December 25.\n\nDmitri\n_______________________________________________\n'
        'crm-users mailing list\ncrm-users@lists.opensource.example\n'
        'https://lists.opensource.example/mailman/listinfo/crm-users\n',
        [('Precedence', 'list'), ('List-Id', 'CRM users <%s>' % lst),
         ('List-Unsubscribe', '<https://lists.opensource.example/mailman/options/crm-users>,\n '
                              '<mailto:crm-users-request@lists.opensource.example?subject=unsubscribe>'),
         ('List-Archive', '<https://lists.opensource.example/pipermail/crm-users/>'),
         ('List-Post', '<mailto:crm-users@lists.opensource.example>'),
         ('List-Help', '<mailto:crm-users-request@lists.opensource.example?subject=help>'),
         ('Errors-To', 'crm-users-bounces@lists.opensource.example'),
         ('Sender', '"crm-users" <crm-users-bounces@lists.opensource.example>'), ('X-Mailman-Version', '2.1.39')],
        'precedence', 'how do you pause SLA clocks', 'Mailman 2 list post (support@ is subscribed): Precedence: list '
        'and List-Id - precedence comes first', ['list', 'multi-signal'],
        '%s@volkov.example' % uuid_like('dm'), 'lists.opensource.example',
        sender_rp='crm-users-bounces+support=desk.example@lists.opensource.example')

    f_gg, m_gg = listmail(
        'google-groups-style-post', P('Ana Souza', 'ana.souza@example.com.br.example'),
        'Integration partners meetup - slides', 'Hi everyone,\n\nthe slides from last week\'s partners meetup are in '
        'the shared folder now.\n\nAna\n\n-- \nYou received this message because you are subscribed to the Google '
        'Groups-style group "Integration Partners".\nTo unsubscribe from this group, send an email to '
        'partners+unsubscribe@groups.example.\n',
        [('Precedence', 'list'), ('Mailing-list', 'list partners@groups.example; contact partners+owners@groups.example'),
         ('List-ID', '<partners.groups.example>'), ('X-Google-Group-Id', '600613578711'),
         ('List-Post', '<https://groups.example/g/partners/post>, <mailto:partners@groups.example>'),
         ('List-Help', '<https://support.groups.example/>, <mailto:partners+help@groups.example>'),
         ('List-Archive', '<https://groups.example/g/partners>'),
         ('List-Unsubscribe', '<mailto:googlegroups-manage+600613578711+unsubscribe@groups.example>,\n '
                              '<https://groups.example/g/partners/subscribe>')],
        'precedence', 'slides from last week', 'group mailing list post (Precedence: list, List-ID written "List-ID")',
        ['list'], 'CAF%s@mail.gmail.com' % rnd('gg', 40, ALNUM), 'mail-sor-f73.groups.example',
        sender_rp='partners+bncBDW%s@groups.example' % rnd('ggb', 16, ALNUM))

    mm3_mid = '%s@volkov.example' % uuid_like('mm3')
    mm3_body = ('Hello,\n\nrelease 4.2 of the open source connector is out. It adds retry with backoff for webhooks.\n\n'
                'Dmitri\n_______________________________________________\nannounce mailing list -- '
                'announce@lists.opensource.example\nTo unsubscribe send an email to '
                'announce-leave@lists.opensource.example\n')
    mm3_hdr = [('List-Id', 'Announcements <announce.lists.opensource.example>'),
               ('List-Unsubscribe', '<mailto:announce-leave@lists.opensource.example>'),
               ('List-Post', '<mailto:announce@lists.opensource.example>'),
               ('List-Help', '<mailto:announce-request@lists.opensource.example?subject=help>'),
               ('Archived-At', '<https://lists.opensource.example/archives/announce/message/%s/>' % rnd('mm3a', 26,
                                                                                                         UPHEX)),
               ('X-Mailman-Version', '3.3.9')]
    t_mm3 = newlabel(P('Dmitri Volkov', 'dmitri@volkov.example'), '[announce] Connector 4.2 released')
    f_mm3, _ = listmail('mailman3-list-post', P('Dmitri Volkov', 'dmitri@volkov.example'),
                        '[announce] Connector 4.2 released', mm3_body, mm3_hdr, 'list',
                        'It adds retry with backoff', 'Mailman 3 post: List-Id and List-Unsubscribe, no Precedence',
                        ['list'], mm3_mid, 'lists.opensource.example', label=t_mm3,
                        sender_rp='announce-bounces@lists.opensource.example')
    mm3_hdr2 = [(k, v.replace('announce', 'crm-dev').replace('Announcements', 'CRM developers')) for k, v in mm3_hdr]
    f_mm3b, _ = listmail('mailman3-cross-post-same-id', P('Dmitri Volkov', 'dmitri@volkov.example'),
                         '[announce] Connector 4.2 released', mm3_body.replace('announce mailing list',
                                                                               'crm-dev mailing list'),
                         mm3_hdr2, 'list', '-', 'the same post cross-posted to a second list: another copy with the '
                         'same Message-ID (different List-Id, footer and Received) - duplicate',
                         ['list', 'dup-other-file'], mm3_mid, 'lists.opensource.example', expect='duplicate',
                         label=t_mm3, sender_rp='crm-dev-bounces@lists.opensource.example')

    news_html = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Winter deals</title></head>\n<body '
                 'style="margin:0;background:#f4f4f4">\n<table width="100%" cellpadding="0" cellspacing="0"><tr><td '
                 'align="center">\n<table width="600" style="background:#ffffff"><tr><td style="padding:24px;font-'
                 'family:Arial">\n<h1 style="font-size:22px">Winter deals on office chairs</h1>\n<p>Save 30% on all '
                 'ergonomic chairs until Sunday.</p>\n<p><a href="https://shop.bloomfield.example/winter?utm_source='
                 'newsletter">Shop now</a></p>\n<p style="font-size:11px;color:#888">You receive this e-mail because '
                 'you signed up at bloomfield.example. <a href="https://shop.bloomfield.example/unsub?u=8812">'
                 'Unsubscribe</a></p>\n</td></tr></table>\n</td></tr></table>\n<img src="https://t.bloomfield.example/'
                 'o/8812.gif" width="1" height="1" alt="">\n</body></html>\n')
    f_mkt, _ = listmail('marketing-bulk-newsletter', P('Bloomfield Office Supplies', 'news@mail.bloomfield.example'),
                        'Winter deals: 30% off ergonomic chairs', 'Winter deals on office chairs\n\nSave 30% on all '
                        'ergonomic chairs until Sunday.\nShop now: https://shop.bloomfield.example/winter\n\n'
                        'Unsubscribe: https://shop.bloomfield.example/unsub?u=8812\n',
                        [('Precedence', 'bulk'),
                         ('List-Unsubscribe', '<https://shop.bloomfield.example/unsub?u=8812>, '
                                              '<mailto:unsub-8812@mail.bloomfield.example>'),
                         ('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'),
                         ('Feedback-ID', '8812:winter26:newsletter:bloomfield'),
                         ('X-Campaign-Id', 'winter26-chairs')], 'precedence', 'Save 30% on all ergonomic chairs',
                        'marketing newsletter: Precedence: bulk + one-click List-Unsubscribe, text + HTML',
                        ['newsletter', 'marketing'], 'winter26-chairs.8812.%s@mail.bloomfield.example' % rnd('mk', 10),
                        'mta7.mail.bloomfield.example', html_body=news_html,
                        sender_rp='bounce-8812-%s@mail.bloomfield.example' % rnd('mkb', 8))

    ev_html = ('<html><body style="font-family:Helvetica,Arial,sans-serif">\n<h2>CX Summit 2027 - early bird '
               'tickets</h2>\n<p>Join 800 support leaders in Lisbon on March 3-4.</p>\n<p>Early bird pricing ends '
               'November 30.</p>\n<p style="font-size:11px"><a href="https://events.cxsummit.example/u/5521">'
               'Unsubscribe</a></p>\n</body></html>\n')
    t_ev = newlabel(P('CX Summit', 'hello@events.cxsummit.example'), 'Early bird tickets for CX Summit 2027')
    f_ev, _ = emit('marketing-html-only-list-unsubscribe',
                   generic(P('CX Summit', 'hello@events.cxsummit.example'), 'Early bird tickets for CX Summit 2027',
                           text('text/html; charset=utf-8', ev_html, 'utf-8', 'quoted-printable'), T(23), 'ev',
                           mid='%s@events.cxsummit.example' % uuid_like('ev'),
                           extra=[('List-Unsubscribe', '<https://events.cxsummit.example/u/5521>'),
                                  ('X-Mailer', 'EventMailer 5')]),
                   'new', t_ev, 'list', 'Join 800 support leaders in Lisbon',
                   'HTML-only marketing mail with only List-Unsubscribe', ['marketing', 'html-only'])

    t_asn = newlabel(P('Pipeline Weekly', 'digest@pipelineweekly.example'), 'Pipeline Weekly #212')
    f_asn, _ = emit('newsletter-auto-submitted-no-list-unsubscribe',
                    generic(P('Pipeline Weekly', 'digest@pipelineweekly.example'), 'Pipeline Weekly #212',
                            text('text/plain; charset=utf-8', 'Pipeline Weekly #212\n\nThis week: five ways to '
                                 'shorten your sales cycle.\n\nManage your subscription: '
                                 'https://pipelineweekly.example/manage\n', 'utf-8', '7bit'), T(31), 'asn',
                            mid='pw212.%s@pipelineweekly.example' % rnd('asn', 12),
                            extra=[('Auto-Submitted', 'no'),
                                   ('List-Unsubscribe', '<https://pipelineweekly.example/manage?u=%s>' % rnd('asnu', 8))]),
                    'new', t_asn, 'list', 'five ways to shorten your sales',
                    'Auto-Submitted: no (not a signal) but List-Unsubscribe: list', ['newsletter', 'auto-submitted-no',
                                                                                     'multi-signal'])

    shop_html = ('<html><body>\n<p>Hi Desk Support team,</p>\n<p>Good news: your order #100234 has shipped and is on '
                 'its way.</p>\n<p>Carrier: Parcelway, tracking number PW7712093441.</p>\n<p>Bloomfield Office '
                 'Supplies</p>\n</body></html>\n')
    f_shop, _ = listmail('shop-order-shipped-auto-generated', P('Bloomfield Office Supplies', 'orders@shop.bloomfield.example'),
                         'Your order #100234 has shipped', 'Hi Desk Support team,\n\nGood news: your order #100234 has '
                         'shipped and is on its way.\nCarrier: Parcelway, tracking number PW7712093441.\n\n'
                         'Bloomfield Office Supplies\n', [('Auto-Submitted', 'auto-generated'),
                                                          ('X-Mailer', 'ShopEngine Notifications 3.2')],
                         'auto_submitted', 'your order #100234 has shipped',
                         '"Your order has shipped" from a shop system: Auto-Submitted: auto-generated',
                         ['notification'], 'order-100234-shipped.%s@shop.bloomfield.example' % rnd('shop', 8),
                         'smtp.shop.bloomfield.example', html_body=shop_html)

    am_body = ('[FIRING:1] HighErrorRate api-gateway (critical)\n\nAlerts Firing:\nLabels:\n - alertname = HighErrorRate'
               '\n - service = api-gateway\n - severity = critical\nAnnotations:\n - summary = 5xx rate above 5% for '
               '10 minutes\nSource: https://prometheus.tallpine.example/graph?g0.expr=job%3Aerrors%3Arate5m\n')
    f_alert, _ = listmail('monitoring-alert-auto-generated', P('Alertmanager', 'alertmanager@monitoring.tallpine.example'),
                          '[FIRING:1] HighErrorRate api-gateway (critical)', am_body,
                          [('Auto-Submitted', 'auto-generated'), ('X-Alertmanager-Group', 'HighErrorRate')],
                          'auto_submitted', '5xx rate above 5% for 10 minutes',
                          'monitoring alert sent to the support address: Auto-Submitted: auto-generated',
                          ['notification', 'monitoring'], '%d.%s@monitoring.tallpine.example' % (
                              int(now().timestamp()) * 1000 + 123, rnd('am', 16)),
                          'monitoring.tallpine.example')

    cron_body = ('/usr/local/bin/backup-crm.sh: line 42: pg_dump: connection to server failed\n'
                 'backup of crm_prod FAILED at 03:00:01\n')
    f_cron, _ = listmail('cron-output-auto-generated-bulk', P('Cron Daemon', 'root@build01.tallpine.example'),
                         'Cron <root@build01> /usr/local/bin/backup-crm.sh', cron_body,
                         [('Auto-Submitted', 'auto-generated'), ('Precedence', 'bulk'),
                          ('X-Cron-Env', '<SHELL=/bin/sh>'), ('X-Cron-Env', '<HOME=/root>'),
                          ('X-Cron-Env', '<MAILTO=support@desk.example>')], 'auto_submitted',
                         'backup of crm_prod FAILED', 'cron output mailed to support (MAILTO misconfigured): '
                         'Auto-Submitted + Precedence: bulk', ['notification', 'multi-signal'],
                         '%s.%s@build01.tallpine.example' % (tzd(now(), 0).strftime('%Y%m%d%H%M%S'), rnd('cron', 6, UPHEX)),
                         'build01.tallpine.example')

    forge_body = ('@desk-support-bot the webhook retries still use a fixed 20 second delay in 4.1; see the log '
                  'below.\n\n--\nReply to this email directly, view it on Forge:\n'
                  'https://forge.example/acme/crm-connector/issues/88#issuecomment-2231\n'
                  'You are receiving this because you were mentioned.\n')
    f_forge, _ = listmail('forge-notification-suppress', P('Ben Carter', 'notifications@forge.example'),
                          'Re: [acme/crm-connector] Webhook retries use a fixed delay (Issue #88)', forge_body,
                          [('Reply-To', 'acme/crm-connector <reply+ABCD%s@reply.forge.example>' % rnd('fg', 20, UPHEX)),
                           ('In-Reply-To', '<acme/crm-connector/issues/88@forge.example>'),
                           ('References', '<acme/crm-connector/issues/88@forge.example>'),
                           ('List-ID', 'acme/crm-connector <crm-connector.acme.forge.example>'),
                           ('List-Archive', 'https://forge.example/acme/crm-connector'),
                           ('List-Unsubscribe', '<mailto:unsub+ABCD@reply.forge.example>,\n '
                                                '<https://forge.example/notifications/unsubscribe/ABCD>'),
                           ('X-Auto-Response-Suppress', 'All'), ('Precedence', 'list'),
                           ('X-Forge-Reason', 'mention')], 'auto_response_suppress',
                          'still use a fixed 20 second delay', 'code-forge notification: X-Auto-Response-Suppress: All '
                          '+ Precedence: list + List-ID; In-Reply-To to an id we never saw',
                          ['notification', 'multi-signal'], 'acme/crm-connector/issues/88/2231@forge.example',
                          'out-21.smtp.forge.example')

    f_jira, _ = listmail('issue-tracker-notification', P('Polarline Tracker', 'tracker@issues.polarline.example'),
                         '[TRK-512] Calendar sync broken for sales team', 'Mark Ellis updated TRK-512:\n\n'
                         'Status: In Progress -> Waiting for vendor\nComment: vendor ticket raised with Desk Support.\n',
                         [('Auto-Submitted', 'auto-generated'), ('Precedence', 'bulk'),
                          ('X-Tracker-Fingerprint', rnd('jira', 32))], 'auto_submitted', 'Waiting for vendor',
                         'issue tracker notification (Auto-Submitted: auto-generated, Precedence: bulk)',
                         ['notification', 'multi-signal'], 'TRK-512.%s@issues.polarline.example' % rnd('jiram', 10),
                         'issues.polarline.example')

    f_inv, _ = listmail('saas-invoice-suppress-bulk', P('Cloudhost Billing', 'billing@cloudhost.example'),
                        'Your invoice INV-88812 is available', 'Hello,\n\nyour invoice INV-88812 for November '
                        '(EUR 412.00) is available in the billing portal.\n\nCloudhost\n',
                        [('X-Auto-Response-Suppress', 'OOF, AutoReply'), ('Precedence', 'bulk')],
                        'auto_response_suppress', 'your invoice INV-88812 for November',
                        'SaaS billing notice: X-Auto-Response-Suppress: OOF, AutoReply + Precedence: bulk',
                        ['notification', 'multi-signal'], 'inv-88812.%s@cloudhost.example' % rnd('inv', 10),
                        'mailer3.cloudhost.example')

    f_pw, _ = listmail('password-reset-suppress-only', P('Vendor Portal', 'no-reply@portal.supplierhub.example'),
                       'Reset your Vendor Portal password', 'Someone asked to reset the password for the account '
                       'support@desk.example.\nThe link is valid for 30 minutes: '
                       'https://portal.supplierhub.example/reset/%s\n' % rnd('pw', 24),
                       [('X-Auto-Response-Suppress', 'All')], 'auto_response_suppress',
                       'The link is valid for 30 minutes', 'transactional mail with only X-Auto-Response-Suppress '
                       '(and a no-reply local part, which is not a system sender)', ['notification'],
                       '%s@portal.supplierhub.example' % uuid_like('pw'), 'smtp.portal.supplierhub.example')

    f_junk, _ = listmail('spam-precedence-junk', P('Prize Center', 'winner@lucky-draw.example'),
                         'Congratulations! You have been selected', 'Dear winner,\n\nyou have been selected to receive '
                         'a gift card. Confirm your details within 24 hours.\n', [('Precedence', 'junk'),
                                                                                   ('X-Spam-Flag', 'YES'),
                                                                                   ('X-Spam-Score', '9.8')],
                         'precedence', 'you have been selected to receive',
                         'spam that got through, marked Precedence: junk', ['spam'], '%s@lucky-draw.example' % rnd('junk', 20),
                         'mail.lucky-draw.example')

    # our own addresses ------------------------------------------------------
    dig = ('Daily SLA digest for Desk Support\n\n3 tickets breached their first response target yesterday.\n'
           '5 tickets are due within the next 4 hours.\n\nThis is an automatic message.\n')
    f_dig, _ = listmail('own-noreply-digest', P('Desk Notifications', 'noreply@desk.example'),
                        'Daily SLA digest: 3 tickets breached', dig, [('Auto-Submitted', 'auto-generated')],
                        'own_address', '3 tickets breached their first response',
                        'our own noreply@ sends a digest to support@ (a loop if answered): own_address before '
                        'Auto-Submitted', ['own-address', 'multi-signal'], 'digest-%s@desk.example' % rnd('dig', 12),
                        'app01.desk.example')
    d = T(14)
    own_copy = outlook(DESK, 'RE: ' + TK[t_greg]['subj'],
                       'Hi Greg,\n\nfollowing up by phone as discussed: the post-mortem call is booked for Monday '
                       '10:00 CET.\n\nMaria', d, 'owncopy', to=[greg], cc=[SUPPORT], irt=m_greg1, refs=[m_greg1],
                       rp='support@desk.example')
    f_owncopy, _ = emit('own-support-address-copy', own_copy, 'attach', t_greg, 'own_address',
                        'the post-mortem call is booked',
                        'an agent writes from Outlook as support@desk.example with support@ in Cc: our own address, '
                        'threads by In-Reply-To to the customer\'s first mail', ['outlook', 'own-address'])

    # system senders and null senders -------------------------------------------
    c = ct['add-admins']
    d = T(25)
    q_body = ('A message you sent could not be delivered right away and is held for review.\n\n'
              'Sender: support@desk.example\nRecipient: emma.wilson@corvid-media.example\n'
              'Subject: Re: Request: add two admins to our account\nReason: message contains a link to an '
              'unverified domain\n\nYour message will be released or deleted within 24 hours.\n')
    t_q = newlabel(P(None, 'postmaster@corvid-media.example'), 'Message held for review')
    f_q, _ = emit('postmaster-quarantine-notice',
                  generic(P('Corvid Media Postmaster', 'postmaster@corvid-media.example'), 'Message held for review',
                          text('text/plain; charset=us-ascii', q_body, 'ascii', '7bit'), d, 'quar',
                          mid='quar-%s@mailgate.corvid-media.example' % rnd('quar', 10)),
                  'new', t_q, 'system_sender', 'is held for review',
                  'quarantine notice from postmaster@ (plain text, no report, no reply headers): a new ticket',
                  ['system-sender', 'notification'])

    irene = P('Irene Walsh', 'irene.walsh@example.com')
    t_irene = newlabel(irene, 'Question about API pagination')
    f_irene, _ = emit('null-return-path-normal-mail',
                      thunderbird(irene, TK[t_irene]['subj'], 'Hi,\n\nthe contacts endpoint returns a next_cursor '
                                  'even on the last page. Is that expected?\n\nIrene', T(17), 'irene1', rp='',
                                  tz=0),
                      'new', t_irene, 'empty_return_path', 'returns a next_cursor even on',
                      'an otherwise normal Thunderbird mail that arrives with Return-Path: <> (relayed by a forwarder '
                      'that drops the envelope sender)', ['thunderbird', 'empty-return-path'])

    partner = P('Jasmin Keller', 'jasmin.keller@helix-partners.example')
    t_partner = newlabel(partner, 'Reseller agreement draft')
    f_partner, m_partner = emit('auto-submitted-no-human',
                                generic(partner, 'Reseller agreement draft',
                                        text('text/plain; charset=utf-8', 'Hello,\n\nas discussed, here is the '
                                             'summary of our reseller terms: 20% margin, 12 month term, EU only.\n'
                                             'Can your legal team review it this month?\n\nJasmin Keller\n'
                                             'Helix Partners\n', 'utf-8', '7bit'), T(33), 'jasmin1',
                                        mid='%s@helix-partners.example' % uuid_like('jasmin1'),
                                        extra=[('Auto-Submitted', 'no'), ('X-Mailer', 'HelixCRM 7.2')]),
                                'new', t_partner, '-', 'Can your legal team review it',
                                'a person writes through a CRM that stamps Auto-Submitted: no - human mail',
                                ['auto-submitted-no'])
    reply(t_partner, 'Thanks Jasmin, legal will review the terms by November 27.')
    d = T(90)
    f_partner2, _ = emit('auto-submitted-no-reply',
                         generic(partner, 'Re: Reseller agreement draft',
                                 text('text/plain; charset=utf-8', 'Great, thank you. I will block time on the 27th '
                                      'for questions.\n\nJasmin\n', 'utf-8', '7bit'), d, 'jasmin2',
                                 mid='%s@helix-partners.example' % uuid_like('jasmin2'), irt=OUT(t_partner),
                                 refs=[m_partner, OUT(t_partner)],
                                 extra=[('Auto-Submitted', 'no'), ('X-Mailer', 'HelixCRM 7.2')]),
                         'attach', t_partner, '-', 'I will block time on the 27th',
                         'reply with Auto-Submitted: no (human), threads by In-Reply-To',
                         ['auto-submitted-no', 'reply:irt+refs'])

    # a read receipt without any machine header
    c = ct['cancel-subscription']
    reply(c[0], 'Here is your cancellation confirmation for your records: CXL-2026-1188.')
    d = T(26)
    mb = '------------%s' % rnd('mdn', 24, ALNUM)
    mdn_text = ('This is a Return Receipt for the mail that you sent to olivia@bennett-bakery.example.\n\n'
                'Note: This Return Receipt only acknowledges that the message was displayed on the recipient\'s '
                'computer. There is no guarantee that the recipient has read or understood the message contents.\n')
    mdn = ('Reporting-UA: laptop-olivia.bennett-bakery.example; Mozilla Thunderbird\n'
           'Final-Recipient: rfc822;olivia@bennett-bakery.example\nOriginal-Message-ID: <%s>\n'
           'Disposition: manual-action/MDN-sent-manually; displayed\n' % OUT(c[0]))
    root = multi('report', mb, [text('text/plain; charset=UTF-8', mdn_text, 'utf-8', '7bit'),
                                text('message/disposition-notification; name="MDNPart2.txt"', mdn, 'ascii', '7bit',
                                     extra=[('Content-Disposition', 'inline')]),
                                text('text/rfc822-headers; name="MDNPart3.txt"', our_headers(c[0], [c[2]]), 'ascii',
                                     '7bit', extra=[('Content-Disposition', 'inline')])],
                 params='; report-type=disposition-notification', preamble='This is a multi-part message in MIME '
                                                                           'format.')
    f_mdn, _ = emit('read-receipt-mdn-no-signal',
                    generic(c[2], 'Return Receipt (displayed) - Re: ' + c[3], root, d, 'mdn1',
                            mid='%s@bennett-bakery.example' % uuid_like('mdn1'), irt=OUT(c[0]),
                            extra=[('User-Agent', 'Mozilla Thunderbird')]),
                    'attach', c[0], 'delivery_report', 'This is a Return Receipt for the mail',
                    'read receipt (multipart/report; report-type=disposition-notification) with no Auto-Submitted: '
                    'every multipart/report is a report, so machine-made (never auto-answered)',
                    ['mdn', 'thunderbird'])

    # ===================================================================
    # a few more real shapes
    # ===================================================================
    julien = P('Julien Moreau', 'julien.moreau@atelier-lumiere.example')
    t_cam2 = newlabel(camille, "TR: Problème d'accès pour Julien")
    fq = Q(julien, now() - timedelta(hours=2), "Camille,\n\nje n'arrive plus à me connecter depuis le changement de "
           "mot de passe, le site dit « compte inconnu ».\n\nJulien", to=[camille],
           subject="Problème d'accès")
    f_cam3, _ = emit('outlook-fr-tr-forward',
                     outlook(camille, "TR: Problème d'accès pour Julien", 'Bonjour,\n\nje vous transfère le message '
                             'de Julien, notre nouveau graphiste. Pouvez-vous regarder ?\n\nCamille', T(40), 'cam3',
                             q=fq, lang='fr', cs='windows-1252', topic="Problème d'accès pour Julien"),
                     'new', t_cam2, '-', 'notre nouveau graphiste',
                     'French Outlook forward "TR:" (De : / Envoyé : / À : / Objet : block) by a known customer about '
                     'a new matter, no token: a new ticket', ['outlook', 'lang:fr', 'cs:windows-1252', 'fwd-outlook'])

    matteo = P('Matteo Ricci', 'matteo.ricci@example.it.example')
    t_matteo = newlabel(matteo, 'Domanda sulle automazioni')
    tb_plain = ('Buongiorno,\n\nè possibile creare un\'automazione che assegna i ticket in base alla lingua del '
                'cliente?\n\nGrazie,\nMatteo\n')
    tb_html = ('<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="content-type" content="text/html; '
               'charset=UTF-8">\n  </head>\n  <body>\n    <p>Buongiorno,</p>\n    <p>è possibile creare '
               'un\'automazione che assegna i ticket in base alla lingua del cliente?</p>\n    <p>Grazie,<br>\n'
               '      Matteo</p>\n  </body>\n</html>\n')
    root = multi('alternative', '------------%s' % rnd('matteo', 24, ALNUM),
                 [text('text/plain; charset=UTF-8; format=flowed', tb_plain, 'utf-8', '8bit'),
                  text('text/html; charset=UTF-8', tb_html, 'utf-8', '8bit')],
                 preamble='This is a multi-part message in MIME format.')
    f_matteo, _ = emit('thunderbird-html-alternative',
                       generic(matteo, TK[t_matteo]['subj'], root, T(25), 'matteo1',
                               mid='%s@example.it.example' % uuid_like('matteo1'), date_tz=1,
                               extra=[('User-Agent', 'Mozilla Thunderbird'), ('Content-Language', 'it-IT')]),
                       'new', t_matteo, '-', 'in base alla lingua del',
                       'Thunderbird HTML mail (multipart/alternative, 8bit UTF-8 in both parts)',
                       ['thunderbird', 'lang:it'])

    c = ct['spf-bounce']
    reply(c[0], 'Our logs show the resend went out fine; 98% were accepted on the first attempt.')
    d = T(33)
    paula = c[2]
    aqp = aq(c[0], token=False, to=[paula])
    om_plain = ('Great, thanks for checking!\n\nGet Outlook for Android<https://aka.example/ghei36>\n'
                '________________________________\nFrom: Desk Support <support@desk.example>\nSent: %s\n'
                'To: Paula Schmidt <paula.schmidt@example.at.example>\nSubject: Re: %s\n\n%s\n'
                % (en_long(tzd(aqp.dt, 1)), c[3], aqp.body))
    om_html = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=us-ascii">\n</head>\n<body>\n'
               '<div dir="auto">Great, thanks for checking!</div>\n<div dir="auto"><br></div>\n<div dir="auto">Get '
               '<a href="https://aka.example/ghei36">Outlook for Android</a></div>\n<div id="appendonsend"></div>\n'
               '<hr style="display:inline-block;width:98%%" tabindex="-1">\n<div id="divRplyFwdMsg" dir="ltr"><font '
               'face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>From:</b> Desk Support '
               '&lt;support@desk.example&gt;<br>\n<b>Sent:</b> %s<br>\n<b>To:</b> Paula Schmidt<br>\n<b>Subject:</b> '
               'Re: %s</font>\n<div>&nbsp;</div>\n</div>\n<div>%s</div>\n</body>\n</html>\n'
               % (en_long(tzd(aqp.dt, 1)), c[3], '<br>\n'.join(html.escape(l, quote=False) for l in aqp.body.split('\n'))))
    host = 'VI1PR08MB%d' % (5000 + ord('p'))
    root = multi('alternative', '_000_%s%s_' % (host, rnd('paula2', 28, UPHEX)),
                 [text('text/plain; charset="us-ascii"', om_plain, 'ascii', 'quoted-printable'),
                  text('text/html; charset="us-ascii"', om_html, 'ascii', 'quoted-printable')])
    pmid = '%s%s@%s.eurprd08.prod.outlook.example' % (host, rnd('paula2m', 28, UPHEX), host)
    f_om, _ = emit('outlook-android-reply',
                   generic(paula, 'Re: ' + c[3], root, d, 'paula2', mid=pmid, irt=OUT(c[0]), refs=[c[10], OUT(c[0])],
                           extra=[('Thread-Topic', c[3]), ('Thread-Index', 'AQHZ' + rnd('paulati', 24, B64A)),
                                  ('X-MS-Has-Attach', ''), ('X-MS-TNEF-Correlator', ''),
                                  ('x-ms-publictraffictype', 'Email')], date_tz=0),
                   'attach', c[0], '-', 'Great, thanks for checking!',
                   'Outlook for Android reply: "Get Outlook for Android", divRplyFwdMsg quote block',
                   ['outlook-mobile', 'reply:irt+refs'])

    c = ct['nl-api-limits']
    reply(c[0], 'We can raise the limit to 1,200 requests per minute on the Enterprise plan if you need it.')
    d = T(52)
    old_ids = ['%s@devries-ict.example' % uuid_like('pv%d' % k) for k in range(7)]
    f_pv, _ = emit('thunderbird-long-references-chain',
                   thunderbird(c[2], 'Re: ' + c[3], 'Voorlopig niet nodig, maar goed om te weten.\n\nPieter', d,
                               'pieter3', irt=OUT(c[0]), refs=old_ids + [c[10], OUT(c[0])], q=aq(c[0], token=False),
                               lang='nl-NL', attr='Op {d}-{m}-{Y} om {H}:{M} schreef {name}:'),
                   'attach', c[0], '-', 'maar goed om te weten',
                   'References folded over many lines: seven unknown ids of an internal thread, then the first mail '
                   'and our reply', ['thunderbird', 'lang:nl', 'folded-headers', 'reply:irt+refs'])

    c = ct['signup-form']
    reply(c[0], 'The form needs the domain of your website in its allowed origins; I have added it. Please try again.')
    d = T(70)
    mary = c[2]
    sg_plain = ('It works now, thanks a lot!\n\n\n\nSent from my Galaxy\n\n\n-------- Original message --------\n'
                'From: Desk Support <support@desk.example>\nDate: %s\nTo: Mary Collins <marycollins@yahoo.example>\n'
                'Subject: Re: %s\n\n%s\n' % (tzd(TK[c[0]]['agent'][0], -5).strftime('%m/%d/%y %I:%M %p (GMT-05:00)'),
                                             c[3], TK[c[0]]['agent'][1]))
    sg_html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body>'
               '<div dir="auto">It works now, thanks a lot!</div><div dir="auto"><br></div><div dir="auto"><br></div>'
               '<div id="composer_signature" dir="auto"><div style="font-size:12px;color:#575757" dir="auto">Sent from '
               'my Galaxy</div></div><div dir="auto"><br></div><div><br></div><div align="left" dir="auto" '
               'style="font-size:100%%;color:#000000"><div>-------- Original message --------</div><div>From: Desk '
               'Support &lt;support@desk.example&gt; </div><div>Subject: Re: %s </div><div><br></div></div>%s'
               '</body></html>\n' % (c[3], '<br>'.join(html.escape(l, quote=False)
                                                       for l in TK[c[0]]['agent'][1].split('\n'))))
    root = multi('alternative', '--_com.samsung.android.email_%s' % rnd('sg', 15, '0123456789'),
                 [text('text/plain; charset=utf-8', sg_plain, 'utf-8', 'base64'),
                  text('text/html; charset=utf-8', sg_html, 'utf-8', 'base64')])
    sgmid = '%s@email.android.example' % uuid_like('sgm', False).replace('-', '')[:28]
    f_sg, _ = emit('samsung-email-reply',
                   generic(mary, 'Re: ' + c[3], root, d, 'sg1', mid=sgmid, irt=OUT(c[0]), date_tz=-5,
                           host='sonic310-21.consmr.mail.yahoo.example'),
                   'attach', c[0], '-', 'It works now, thanks a lot!',
                   'Samsung Email (Android) reply: "Sent from my Galaxy", "-------- Original message --------", '
                   'base64 UTF-8 parts, In-Reply-To only', ['android', 'reply:irt-only', 'cs:utf-8-base64'])

    c = ct['de-datev-export']
    reply(c[0], 'Zur Sicherheit: der Export für November kann ab dem 1.12. gestartet werden.')
    d = T(44)
    f_mixed_pref, _ = emit('outlook-de-mixed-prefixes',
                           outlook(c[2], 'AW: RE: AW: ' + c[3], 'Danke. Eine Frage noch: kann der Export auch '
                                   'automatisch jeden Monat laufen?\n\nHannes Vogel', d, 'hannes3', irt=OUT(c[0]),
                                   q=aq(c[0], token=False, subject='RE: AW: ' + c[3]), lang='de', cs='utf-8',
                                   topic=c[3]),
                           'attach', c[0], '-', 'automatisch jeden Monat laufen',
                           'German Outlook reply with stacked prefixes "AW: RE: AW:" and In-Reply-To only',
                           ['outlook', 'lang:de', 'reply:irt-only'])

    # ===================================================================
    # the November newsletter we sent: replies from several people
    # ===================================================================
    NL = 'newsletter-2026-11@news.desk.example'
    nl_q = ('Desk News - November 2026\n\nNew this month: business calendars for SLA clocks, a faster CSV importer '
            'and\nthe new mobile app for agents.\n\nReply to this mail to tell us what you think!\n\n'
            'Unsubscribe: https://news.desk.example/u')
    nl_sender = P('Desk News', 'news@desk.example')
    nl_dt = now() - timedelta(hours=30)
    nl_subj = 'Desk News - November 2026'
    hannah = P('Hannah Cole', 'hannah.cole@example.com')
    t_hannah = newlabel(hannah, 'Re: ' + nl_subj)
    f_nl1, m_nl1 = emit('newsletter-reply-gmail',
                        gmail(hannah, 'Re: ' + nl_subj, 'Hi,\n\nthe business calendars are great. Can they also '
                              'pause the resolution target, not just first response?\n\nHannah', T(35), 'nl1',
                              irt=NL, refs=[NL], q=cq(nl_sender, nl_dt, nl_q), tz=0),
                        'new', t_hannah, '-', 'Can they also pause the resolution',
                        'reply to our newsletter: In-Reply-To/References name the newsletter id, which we never '
                        'received - a new ticket of its own', ['newsletter-reply', 'gmail'])
    victor = P('Victor Hale', 'victor.hale@hale-partners.example')
    t_victor = newlabel(victor, 'RE: ' + nl_subj)
    f_nl2, m_nl2 = emit('newsletter-reply-outlook',
                        outlook(victor, 'RE: ' + nl_subj, 'Hello,\n\nis the new mobile app available for Android '
                                'tablets too?\n\nRegards\nVictor Hale', T(12), 'nl2', irt=NL, refs=[NL],
                                q=cq(nl_sender, nl_dt, nl_q, to=[victor], subject=nl_subj), tz=0),
                        'new', t_victor, '-', 'available for Android',
                        'second person replying to the same newsletter: must not join the first reply\'s ticket',
                        ['newsletter-reply', 'outlook'])
    zoe = P('Zoe Park', 'zoe.park@example.net')
    t_zoe = newlabel(zoe, 'Re: ' + nl_subj)
    f_nl3, m_nl3 = emit('newsletter-reply-apple',
                        apple(zoe, 'Re: ' + nl_subj, 'Hi!\n\nThe faster importer is great. Any chance of a '
                              'dry-run mode that shows errors before importing?\n\nZoe', T(8), 'nl3', irt=NL, refs=[NL],
                              q=cq(nl_sender, nl_dt, nl_q), tz=-8),
                        'new', t_zoe, '-', 'dry-run mode that shows errors',
                        'third person replying to the same newsletter', ['newsletter-reply', 'apple'])
    kenji = P('Kenji Mori', 'kenji.mori@example.jp.example')
    t_kenji = newlabel(kenji, 'Re: ' + nl_subj)
    f_nl4, m_nl4 = emit('newsletter-reply-thunderbird',
                        thunderbird(kenji, 'Re: ' + nl_subj, 'Hello,\n\nplease remove me from this newsletter, '
                                    'the unsubscribe link gives an error.\n\nKenji Mori', T(21), 'nl4', irt=NL,
                                    refs=[NL], q=cq(nl_sender, nl_dt, nl_q), tz=9),
                        'new', t_kenji, '-', 'the unsubscribe link gives an error',
                        'fourth person replying to the same newsletter', ['newsletter-reply', 'thunderbird'])
    d = T(3)
    f_nl_oof, _ = emit('newsletter-oof-exchange',
                       oof('exchange', P('Laura Stein', 'laura.stein@example.org'), None, d, 'nloof',
                           'Automatic reply: ' + nl_subj, 'I am out of the office until November 16. Your e-mail '
                           'will not be forwarded.\n\nLaura Stein',
                           [('In-Reply-To', '<%s>' % NL), ('References', '<%s>' % NL),
                            ('Thread-Topic', nl_subj), ('Thread-Index', 'AQHZ' + rnd('nloof', 24, B64A)),
                            ('Auto-Submitted', 'auto-replied'), ('X-Auto-Response-Suppress', 'All')], tz=1),
                       'new', newlabel(P('Laura Stein', 'laura.stein@example.org'), 'Automatic reply: ' + nl_subj),
                       'auto_submitted', 'Your e-mail will not be forwarded',
                       'an out-of-office answering the newsletter: nothing known to thread on, a new (machine) ticket',
                       ['oof', 'oof:exchange', 'newsletter-reply'], crlf=True)
    d = T(1)
    nl_hdr = ('Return-Path: <news-bounces@desk.example>\nFrom: Desk News <news@desk.example>\n'
              'To: old.customer@example.net\nSubject: %s\nDate: %s\nMessage-ID: <%s>\n'
              'List-Unsubscribe: <https://news.desk.example/u>\nPrecedence: bulk\nMIME-Version: 1.0\n'
              'Content-Type: multipart/alternative; boundary="nl-b"\n' % (nl_subj, rfcdate(nl_dt), NL))
    nlb = postfix_bounce(None, 'nlbounce', d, 'old.customer@example.net', '5.1.1', '550 5.1.1 Mailbox does not exist',
                         'mx2.example.net', '198.51.100.26', nl_hdr, 'host mailstore1.example.net[198.51.100.30] said: '
                         '550 5.1.1\n    Mailbox does not exist (in reply to RCPT TO command)',
                         sender='news-bounces@desk.example')
    f_nl_b, _ = emit('newsletter-bounce-unknown-original', nlb, 'new',
                     newlabel(P(None, 'MAILER-DAEMON@mx2.example.net'), 'Undelivered Mail Returned to Sender'),
                     'delivery_report', 'Mailbox does not exist (in reply',
                     'bounce of the newsletter: the embedded Message-ID is the newsletter id we never received, so a '
                     'new (machine) ticket', ['bounce', 'bounce:postfix', 'bounce:unknown', 'newsletter-reply'])
    d = T(47)
    f_nl5, m_nl5 = emit('newsletter-reply-followup-own',
                        apple(zoe, 'Re: ' + nl_subj, 'Sorry, one more idea: the dry run could also list the '
                              'duplicates it would merge.\n\nZoe', d, 'nl5', irt=m_nl3, refs=[NL, m_nl3],
                              q=cq(zoe, now() - timedelta(minutes=47), 'The faster importer is great.'), tz=-8),
                        'attach', t_zoe, '-', 'list the duplicates it would merge',
                        'the third person follows up on her own reply: her first reply\'s id is known, so it joins her '
                        'ticket (and not the others)', ['newsletter-reply', 'apple', 'reply-own-mail'])

    # ===================================================================
    # the next week: solved tickets reopened by replies
    # ===================================================================
    solve(t_anna)
    d = T(60 * 30)
    f_re1, _ = emit('outlook-reopen-solved',
                    outlook(anna, 'RE: ' + TK[t_anna]['subj'], 'Hello,\n\nsorry to reopen this: the December invoice '
                            'INV-2026-0531 again shows 25% VAT.\n\nAnna', d, 'anna3', cc=[erik], irt=OUT(t_anna),
                            refs=[m_anna1, OUT(t_anna), m_anna2], q=aq(t_anna)),
                    'attach', t_anna, '-', 'the December invoice',
                    'reply to a solved ticket: attaches (and reopens it)', ['outlook', 'reopen', 'reply:irt+refs'],
                    crlf=True)
    solve(t_mike)
    d = T(60 * 6)
    f_re2, _ = emit('iphone-reopen-solved',
                    apple(mike, 'Re: ' + TK[t_mike]['subj'], 'It crashed again this morning on 5.2.1 after the '
                          'phone restarted.', d, 'mike3', irt=OUT(t_mike), refs=[m_mike1, OUT(t_mike), m_mike2],
                          q=aq(t_mike), tz=-5, iphone=True),
                    'attach', t_mike, '-', 'It crashed again this morning',
                    'iPhone reply to a solved ticket (reopen)', ['iphone', 'reopen', 'reply:irt+refs'])
    solve(t_sam)
    d = T(60 * 3)
    f_re3, _ = emit('gmail-reopen-subject-token',
                    gmail(sam, 'Jamie cannot log in [#%s]' % NUM(t_sam), 'Hi,\n\nJamie started today but the '
                          'invitation link says it expired.\n\nSam', d, 'sam3'),
                    'attach', t_sam, '-', 'the invitation link says it expired',
                    'a new mail from the requester with the [#N] of his solved ticket: attaches and reopens',
                    ['gmail', 'reopen', 'reply:subject-token'])
    reply(t_priya, 'We have added a warning to the export when it reaches the limit. I am closing this ticket now.')
    solve(t_priya, 'agent solves the ticket right after replying')
    d = T(2)
    f_vac, _ = emit('gmail-vacation-to-solved-ticket',
                    oof('gmail', priya, t_priya, d, 'priyavac', 'Re: ' + TK[t_priya]['subj'],
                        'Hi, I am on vacation until November 23 with no access to e-mail.\n\nPriya',
                        [('Auto-Submitted', 'auto-replied'), ('X-Mailer', None)], tz=5.5),
                    'attach', t_priya, 'auto_submitted', 'I am on vacation until November 23',
                    'Gmail vacation responder (Auto-Submitted: auto-replied) answering our last reply on a solved '
                    'ticket: attaches, but machine mail should not reopen it', ['oof', 'oof:gmail', 'reopen'])
    d = T(60 * 24 * 9)
    f_re4, _ = emit('gmail-reopen-after-vacation',
                    gmail(priya, 'Re: ' + TK[t_priya]['subj'], 'Back from vacation - the warning shows up, but the '
                          'split files are named export-1.csv, export-2.csv without the date. Could you add it?\n\n'
                          'Priya', d, 'priya6', irt=OUT(t_priya), refs=[m_priya1, OUT(t_priya)], q=aq(t_priya),
                          tz=5.5),
                    'attach', t_priya, '-', 'Back from vacation',
                    'the human reply after the vacation notice reopens the solved ticket',
                    ['gmail', 'reopen', 'reply:irt+refs'])
    solve(t_hanako)
    d = T(60 * 5)
    f_re5, _ = emit('becky-reopen-token-only',
                    becky(hanako, 'Re: ' + TK[t_hanako]['subj'], '追加で質問です。\n宛名変更は過去の請求書にも反映されますか。\n\n田中',
                          d, 'hanako3', q=aq(t_hanako)),
                    'attach', t_hanako, '-', '過去の請求書にも反映されますか',
                    'Japanese reply to a solved ticket without reply headers: the quoted token threads it (reopen)',
                    ['becky', 'lang:ja', 'cs:iso-2022-jp', 'reopen', 'reply:token-only'])

    # ===================================================================
    # duplicates
    # ===================================================================
    relist(f_anna1, t_anna, '-', 'the very first mail listed again (same file, same Message-ID): nothing new written')
    relist(f_ndr1, t_daniel, 'delivery_report', 'the Exchange NDR delivered again: duplicate')
    d = now()
    # Jonas' AW: reply, delivered a second time through the backup MX (other Received lines, CRLF)
    raw2 = jonas_reply[0].replace('by mx1.desk.example (Postfix)', 'by mx2.desk.example (Postfix)')
    raw2 = raw2.replace('Delivered-To: support@desk.example\n', 'Delivered-To: support@desk.example\n'
                        'Received: from mx2.desk.example (mx2.desk.example [192.0.2.12])\n\tby mx1.desk.example '
                        '(Postfix) with ESMTPS id 4Bkp%s\n\tfor <support@desk.example>; %s (UTC)\n' % (
                            rnd('dupj', 9, ALNUM), rfcdate(d)), 1)
    emit('outlook-de-redelivered-backup-mx', (raw2, m_jonas2), 'duplicate', t_jonas, '-', '-',
         'the German AW: reply again, delivered via the backup MX (extra Received, CRLF line endings): the same '
         'Message-ID, so a duplicate', ['outlook', 'lang:de', 'dup-other-file'], crlf=True)
    # Priya's follow-up with the CSV, forwarded again from her old address by a mailbox rule
    pri = FILES[f_priya3].decode('latin-1')
    pri = pri.replace('Delivered-To: support@desk.example\n', 'Delivered-To: support@desk.example\n'
                      'X-Forwarded-To: support@desk.example\nX-Forwarded-For: priya.raman@old-employer.example '
                      'support@desk.example\n', 1)
    pri = pri.replace('Return-Path: <priya.raman.dev@example.com>', 'Return-Path: <SRS0=%s=%s=example.com='
                      'priya.raman.dev@old-employer.example>' % (rnd('srs', 4, ALNUM), 'KQ'), 1)
    emit('gmail-redelivered-via-forwarding', (pri, m_priya3), 'duplicate', t_priya, '-', '-',
         'the CSV follow-up again, forwarded by a rule at the customer\'s old address (SRS Return-Path, '
         'X-Forwarded-To): same Message-ID, duplicate', ['gmail', 'dup-other-file', 'attachment'])
    relist(f_bnc1, t_grace, 'delivery_report', 'the Postfix bounce listed again: duplicate')
    relist(f_form1, t_kevin, '-', 'the Message-ID-less contact form mail listed once more: duplicate by the content')
    relist(f_nl2, t_victor, '-', 'a newsletter reply listed again: duplicate')


    # ===================================================================
    # more duplicates and header edge cases
    # ===================================================================
    tariq = P('Tariq Aziz', 'tariq.aziz@example.ae.example')
    t_tariq = newlabel(tariq, 'Quote request for 50 seats')
    d = T(60 * 2)
    tq = gmail(tariq, TK[t_tariq]['subj'], 'Hello,\n\nwe are evaluating your CRM for our Dubai and Riyadh offices.\n'
               'Could you send a quote for 50 Professional seats, billed annually?\n\nTariq Aziz', d, 'tariq1', tz=4,
               to=['Desk team: support@desk.example, Sales <sales@desk.example>;'])
    f_tq, m_tq = emit('gmail-group-syntax-to', tq, 'new', t_tariq, '-', 'quote for 50 Professional seats',
                      'To written in group syntax ("Desk team: support@..., Sales <sales@...>;") naming two of our '
                      'addresses', ['gmail', 'group-syntax'])
    tq2 = tq[0].replace('Delivered-To: support@desk.example\n', 'Delivered-To: support@desk.example\n'
                        'X-Original-To: sales@desk.example\n', 1).replace(
        'for <support@desk.example>;', 'for <sales@desk.example>;', 1)
    tq2 = tq2.replace('Delivered-To: support@desk.example\n', 'Delivered-To: support@desk.example\nReceived: by '
                      'mx1.desk.example (Postfix, from userid 0)\n\tid 4Ral%s; %s (UTC)\n' % (
                          rnd('tq2', 9, ALNUM), rfcdate(d + timedelta(seconds=4))), 1)
    emit('gmail-group-syntax-alias-copy', (tq2, m_tq), 'duplicate', t_tariq, '-', '-',
         'the same mail once more: sales@desk.example is an alias that expands to the support mailbox '
         '(X-Original-To: sales@, other Received) - same Message-ID, duplicate', ['gmail', 'dup-other-file'])

    emit('gmail-refetched-byte-identical', (FILES[f_rita1].decode('latin-1'), m_rita1), 'duplicate', t_rita, '-', '-',
         'a byte-identical copy of an earlier mail under another file name (a mail fetcher that downloaded it twice)',
         ['gmail', 'dup-other-file', 'long-subject'])
    g2 = FILES[f_grace1].decode('latin-1')
    g2 = g2.replace('by mx1.desk.example (Postfix) with ESMTPS id 4', 'by mx1.desk.example (Postfix) with ESMTPS id 4Z', 1)
    emit('apple-resent-from-outbox', (g2, m_grace1), 'duplicate', t_grace, '-', '-',
         'Apple Mail sent the same message again from its outbox after a timeout: same Message-ID and Date, another '
         'queue id', ['apple', 'dup-other-file', 'attachment'])

    c = ct['webhook-retries']
    reply(c[0], 'Good idea; exponential backoff (1, 5, 25 minutes, up to 24 hours) is on the roadmap for January.')
    d = T(41)
    f_sven, _ = emit('mutt-references-trailing-unknown',
                     mutt(c[2], 'Re: ' + c[3], 'Sounds good. Please make the maximum configurable per endpoint.',
                          d, 'sven2', refs=['%s@ahlberg.example' % uuid_like('sv0'), OUT(c[0]),
                                            '20261110183000.GA22222@workstation.ahlberg.example'],
                          q=aq(c[0], token=False), tz=1),
                     'attach', c[0], '-', 'make the maximum configurable',
                     'no In-Reply-To; the newest References id is unknown (his own draft), the one before is our reply: '
                     'the newest KNOWN id wins', ['mutt', 'reply:refs-only', 'rule-order'])

    zoe2 = P('Zoë Hartmann', 'zoe.hartmann@example.de.example')
    t_zoe2 = newlabel(zoe2, 'Contact form: API access')
    f_form2, _ = emit('webform-charset-utf8-alias',
                      webform(zoe2, TK[t_zoe2]['subj'], 'Name: Zoë Hartmann\nE-Mail: zoe.hartmann@example.de.example\n\n'
                              'Nachricht:\nWir möchten per API Tickets anlegen. Gibt es eine Sandbox?\n',
                              T(36), 'zoe2', mid='%s@shopfront.example' % rnd('zoe2m', 32, ALNUM),
                              extra=[('X-Mailer', 'PHPMailer 6.9.1 (https://github.example/PHPMailer/PHPMailer)')]),
                      'new', t_zoe2, '-', 'Gibt es eine Sandbox?',
                      'PHPMailer contact form with charset=utf8 (no hyphen: an alias decoders must accept), 8bit',
                      ['webform', 'plain-only', 'lang:de', 'charset-alias'])
    FILES[f_form2] = FILES[f_form2].replace(b'charset=UTF-8', b'charset=utf8')

    ines = P('Inés Ortega', 'ines.ortega.1990@outlook.example')
    t_ines = newlabel(ines, 'Duda con la app móvil')
    ob = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">\n<style type="text/css" '
          'style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n</head>\n<body dir="ltr">\n'
          '<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Calibri, Helvetica, sans-serif; '
          'font-size: 12pt; color: rgb(0, 0, 0);">\nHola, la aplicación móvil no muestra las notificaciones push '
          'desde ayer.</div>\n<div class="elementToProof" style="font-family: Aptos, Calibri, Helvetica, sans-serif; '
          'font-size: 12pt; color: rgb(0, 0, 0);">\n<br>\n</div>\n<div class="elementToProof" style="font-family: '
          'Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\nInés</div>\n</body>\n'
          '</html>\n')
    host = 'PAWPR10MB%d' % 7311
    root = multi('alternative', '_000_%s%s_' % (host, rnd('ines1', 28, UPHEX)),
                 [text('text/plain; charset="iso-8859-1"', 'Hola, la aplicación móvil no muestra las notificaciones '
                       'push desde ayer.\n\nInés\n', 'iso-8859-1', 'quoted-printable'),
                  text('text/html; charset="iso-8859-1"', ob, 'iso-8859-1', 'quoted-printable')])
    f_ines, _ = emit('outlook-com-web-new',
                     generic(ines, subj(TK[t_ines]['subj']), root, T(29), 'ines1',
                             mid='%s%s@%s.EURPRD10.PROD.OUTLOOK.example' % (host, rnd('ines1m', 28, UPHEX), host),
                             extra=[('Thread-Topic', subj(TK[t_ines]['subj'])),
                                    ('Thread-Index', 'AQHbT' + rnd('inesti', 20, B64A) + '=='),
                                    ('Accept-Language', 'es-ES, en-US'), ('Content-Language', 'es-ES'),
                                    ('X-MS-Has-Attach', ''), ('X-MS-TNEF-Correlator', ''),
                                    ('x-ms-exchange-messagesentrepresentingtype', '1')], date_tz=1),
                     'new', t_ines, '-', 'no muestra las notificaciones push',
                     'Outlook.com (web) personal account: elementToProof markup, iso-8859-1 QP, an upper-case host in '
                     'the Message-ID', ['outlook', 'lang:es', 'cs:iso-8859-1'])

    noor = P('Noor Rahman', 'noor.rahman@privmail.example')
    t_noor = newlabel(noor, 'Data export request (GDPR Art. 20)')
    key = ('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ' + rnd('pgp', 60, B64A) + '\n' + rnd('pgp2', 64, B64A) +
           '\n=' + rnd('pgp3', 4, B64A) + '\n-----END PGP PUBLIC KEY BLOCK-----\n')
    pm_plain = ('Hello,\n\nunder GDPR Art. 20 I request a machine-readable export of all data you hold about me.\n\n'
                'Noor Rahman\n\nSent with Privmail secure email.\n')
    pm_html = ('<div style="font-family: Arial, sans-serif; font-size: 14px;">Hello,</div><div style="font-family: '
               'Arial, sans-serif; font-size: 14px;"><br></div><div style="font-family: Arial, sans-serif; '
               'font-size: 14px;">under GDPR Art. 20 I request a machine-readable export of all data you hold about '
               'me.</div><div style="font-family: Arial, sans-serif; font-size: 14px;"><br></div><div '
               'style="font-family: Arial, sans-serif; font-size: 14px;">Noor Rahman</div>\n<div class="pm_signature_'
               'block">Sent with <a href="https://privmail.example/">Privmail</a> secure email.</div>\n')
    root = multi('mixed', 'b1=_%s' % rnd('pm', 40, ALNUM), [
        multi('alternative', 'b2=_%s' % rnd('pm2', 40, ALNUM), [
            text('text/plain; charset=utf-8', pm_plain, 'utf-8', 'quoted-printable'),
            text('text/html; charset=utf-8', pm_html, 'utf-8', 'base64')]),
        Part([('Content-Type', 'application/pgp-keys; filename="publickey - noor.rahman@privmail.example - 0x1A2B3C4D.asc"; '
               'name="publickey - noor.rahman@privmail.example - 0x1A2B3C4D.asc"'),
              ('Content-Transfer-Encoding', 'base64'),
              ('Content-Disposition', 'attachment; filename="publickey - noor.rahman@privmail.example - 0x1A2B3C4D.asc"; '
                                      'name="publickey - noor.rahman@privmail.example - 0x1A2B3C4D.asc"')],
             b64lines(key.encode()))])
    f_noor, _ = emit('privacy-mail-public-key-attachment',
                     generic(noor, TK[t_noor]['subj'], root, T(52), 'noor1',
                             mid='%s=@privmail.example' % rnd('noorm', 60, ALNUM + '_-'),
                             extra=[('X-Pm-Content-Encryption', 'end-to-end'), ('X-Pm-Origin', 'internal')]),
                     'new', t_noor, '-', 'machine-readable export of all data',
                     'privacy webmail: alternative (HTML in base64) + the sender\'s public key as an '
                     'application/pgp-keys attachment; a long Message-ID', ['privacy-mail', 'attachment'])

    relist(f_minjun1, t_minjun, '-', 'the Korean HTML-only (base64) first mail listed again: duplicate')


# --------------------------------------------------------------------------
# README

TAG_GROUPS = [
    ('Mail programs (shape of headers and MIME)', [
        ('outlook', 'Outlook / Exchange: Thread-Index, Thread-Topic, X-MS-Exchange-*, MsoNormal HTML, '
                    '"From: / Sent:" quote blocks, RE:/AW:/SV:/TR:/R:/WG: prefixes'),
        ('outlook-mobile', 'Outlook for Android (divRplyFwdMsg)'),
        ('gmail', 'Gmail: CA...@mail.gmail.com ids, X-Gm-Message-State, gmail_quote, "On ... wrote:"'),
        ('apple', 'Apple Mail: Apple-Mail=_ boundaries, Message-Id, format=flowed / QP, blockquote type=cite'),
        ('iphone', 'iPhone Mail: "Sent from my iPhone", "> On ... wrote:"'),
        ('android', 'Samsung Email (Android): "Sent from my Galaxy"'),
        ('thunderbird', 'Thunderbird: User-Agent, format=flowed, forward as attachment, S/MIME'),
        ('mutt', 'Mutt: plain us-ascii/UTF-8, Content-Disposition: inline'),
        ('yahoo', 'Yahoo webmail: yahoo-style-wrap, yahoo_quoted'),
        ('naver', 'Naver-style Korean webmail: HTML only, UTF-8 base64'),
        ('daum', 'Daum/Hanmail-style Korean webmail: EUC-KR base64'),
        ('becky', 'Becky! (Japanese): ISO-2022-JP 7bit'),
        ('foxmail', 'Foxmail (Chinese): GB2312 base64'),
        ('qq', 'QQ Mail style (Chinese): UTF-8 base64, "回复："'),
        ('webmail', 'a webmail that sends HTML only'),
        ('webform', 'website contact forms (PHP mail(), PHPMailer)'),
        ('privacy-mail', 'privacy webmail with a public-key attachment'),
    ]),
    ('Languages', [(t, t[5:]) for t in ['lang:de', 'lang:es', 'lang:fr', 'lang:it', 'lang:ja', 'lang:ko', 'lang:nl',
                                        'lang:no', 'lang:pl', 'lang:pt', 'lang:sv', 'lang:zh']]),
    ('Body structures', [
        ('html-only', 'HTML only (no text/plain part)'),
        ('plain-only', 'text/plain only'),
        ('attachment', 'multipart/mixed with small attachments (PDF, CSV, PNG, key)'),
        ('inline-image', 'inline image with Content-ID (multipart/related)'),
        ('tnef', 'application/ms-tnef winmail.dat'),
        ('smime', 'S/MIME multipart/signed with a dummy application/pkcs7-signature'),
        ('fwd-inline', 'inline forward ("---------- Forwarded message ---------", Apple "Begin forwarded message:")'),
        ('fwd-outlook', 'Outlook forward ("-----Original Message-----", "TR:" with De : / Envoyé :)'),
        ('fwd-attachment', 'forward as attachment (message/rfc822)'),
        ('fwd-colleague', 'a colleague forwards the customer\'s mail (no reply headers): a new ticket'),
    ]),
    ('Threading', [
        ('reply:irt+refs', 'reply with In-Reply-To and References'),
        ('reply:irt-only', 'reply with In-Reply-To only (client dropped References)'),
        ('reply:refs-only', 'reply by References only (In-Reply-To missing or unknown)'),
        ('reply:token-only', 'no usable reply headers: the token in the quoted body (or forwarded text) threads it'),
        ('reply:token-quoted', 'replies that also quote the token (header and token agree)'),
        ('reply:subject-token', '[#N] subject token from the requester or a participant'),
        ('subject-token-participant', '[#N] from a participant who is not the requester (Cc, later Cc)'),
        ('subject-token-stranger', '[#N] from a stranger: ignored, new ticket'),
        ('subject-token-unknown', '[#N] with a number no ticket has: new ticket'),
        ('reply:cc-colleague', 'a colleague in Cc replies to all'),
        ('reply-own-mail', 'follow-up to the sender\'s own earlier mail'),
        ('rule-order', 'rules conflict: In-Reply-To over References, newest References id, token over subject'),
        ('newsletter-reply', 'answers to our newsletter (ids we never received): one new ticket each'),
        ('reopen', 'reply to a solved ticket'),
        ('helpdesk-loop', 'the customer\'s own help desk auto-acknowledges our reply'),
    ]),
    ('Machine-generated mail', [
        ('oof', 'out-of-office / auto replies (all header flavours below)'),
        ('oof:exchange', 'Exchange "Automatic reply:" / "Abwesenheitsnotiz:" (Auto-Submitted + X-Auto-Response-Suppress)'),
        ('oof:gmail', 'Gmail vacation responder (Auto-Submitted: auto-replied)'),
        ('oof:sieve', 'Sieve vacation with Return-Path <>'),
        ('oof:x-autoreply', 'X-Autoreply'),
        ('oof:x-autorespond', 'X-Autorespond only'),
        ('oof:x-autoresponder', 'X-Autoresponder'),
        ('oof:x-autoreply-from', 'X-AutoReply-From (+ X-Mail-Autoreply)'),
        ('oof:x-mail-autoreply', 'X-Mail-Autoreply only'),
        ('oof:x-fc', 'X-FC-MachineGenerated: true'),
        ('oof:x-auto-reply', 'X-Auto-Reply'),
        ('oof:x-post', 'X-POST-MessageClass: 9; Autoresponder'),
        ('oof:precedence', 'Precedence: auto_reply only'),
        ('bounce', 'bounces (all kinds below)'),
        ('bounce:postfix', 'Postfix: multipart/report, message/delivery-status, text/rfc822-headers'),
        ('bounce:exchange', 'Exchange NDR: message/rfc822 original, In-Reply-To'),
        ('bounce:gmail', 'Gmail "Delivery Status Notification (Failure)"'),
        ('bounce:delayed', 'our own MTA\'s delay notice (Action: delayed)'),
        ('bounce:mixed', 'gateway bounce as multipart/mixed with message/delivery-status'),
        ('bounce:qmail', 'qmail plain-text bounce (no MIME)'),
        ('bounce:sendmail-plain', 'sendmail plain-text warning with the original headers in the text'),
        ('bounce:unknown', 'bounce whose original we never sent/received: new ticket'),
        ('list', 'mailing-list posts (Mailman 2/3, group lists)'),
        ('newsletter', 'newsletters'),
        ('marketing', 'marketing mail'),
        ('notification', 'system notifications (shop, monitoring, cron, code forge, tracker, billing, password reset)'),
        ('spam', 'spam with Precedence: junk'),
        ('own-address', 'from one of our own addresses'),
        ('system-sender', 'from MAILER-DAEMON / postmaster without a delivery report'),
        ('empty-return-path', 'Return-Path: <> on an otherwise normal mail'),
        ('auto-submitted-no', 'Auto-Submitted: no (human)'),
        ('mdn', 'read receipt (disposition-notification) without machine headers'),
        ('multi-signal', 'several machine signals at once (the first in order wins)'),
    ]),
    ('Ids, headers, duplicates', [
        ('no-message-id', 'no Message-ID header at all'),
        ('msgid-no-brackets', 'Message-ID without angle brackets (and a reply naming it with brackets)'),
        ('msgid-odd', 'Message-ID header in odd casing / with tabs and spaces / folded'),
        ('odd-header', 'In-Reply-To with a trailing comment'),
        ('folded-headers', 'folded Subject / To / References / Message-ID'),
        ('long-subject', 'very long subjects (ASCII folded, Korean in several encoded words)'),
        ('empty-subject', 'empty Subject'),
        ('no-subject', 'no Subject header'),
        ('re-only-subject', 'Subject of only "Re:"'),
        ('raw-utf8-headers', 'raw UTF-8 (unencoded) From and Subject'),
        ('group-syntax', 'To in group syntax'),
        ('charset-alias', 'charset=utf8 (alias)'),
        ('dup-other-file', 'duplicate as a different file with the same Message-ID (or the same content)'),
    ]),
]


def structural_counts():
    from email import message_from_bytes, policy
    c = {}

    def inc(k):
        c[k] = c.get(k, 0) + 1
    for name, data in FILES.items():
        msg = message_from_bytes(data, policy=policy.compat32)
        inc('top-level ' + msg.get_content_type())
        if b'\r\n' in data:
            inc('CRLF line endings')
        else:
            inc('LF line endings')
        if msg.get('Message-ID') is None:
            inc('no Message-ID')
        if msg.get('In-Reply-To') is not None:
            inc('has In-Reply-To')
        if msg.get('References') is not None:
            inc('has References')
        hdr = data.split(b'\n\n', 1)[0].split(b'\r\n\r\n', 1)[0]
        if b'=?' in hdr:
            inc('RFC 2047 encoded words in headers')
        if b'format=flowed' in data:
            inc('format=flowed text')
        seen = set()
        for p in msg.walk():
            if p.get_content_maintype() == 'text' and p.get_content_subtype() in ('plain', 'html'):
                cs = (p.get_content_charset() or 'us-ascii').lower()
                cte = (p.get('Content-Transfer-Encoding') or '7bit').lower()
                seen.add('charset ' + cs)
                seen.add('Content-Transfer-Encoding ' + cte)
        for k in seen:
            inc(k)
        if '{{' in data.decode('latin-1'):
            inc('carry placeholders')
    return c


def write_readme():
    from collections import Counter
    tagc = Counter(t for v in TAGS.values() for t in set(v))
    mail_rows = [r for r in ROWS if not r[0].startswith('@')]
    ex = Counter(r[1] for r in mail_rows)
    mc = Counter(r[3] for r in mail_rows if r[1] != 'duplicate')
    hum_new = sum(1 for r in mail_rows if r[1] == 'new' and r[3] == '-')
    hum_att = sum(1 for r in mail_rows if r[1] == 'attach' and r[3] == '-')
    mach = sum(1 for r in mail_rows if r[1] != 'duplicate' and r[3] != '-')
    out = []
    w = out.append
    w('# Inbound mail corpus for the service desk\n')
    w('Real-shaped inbound e-mails (made-up people, example domains only) for the service desk\'s mail intake: '
      'threading, duplicate detection and the recognition of machine-generated mail. A test ingests the steps of '
      '`manifest.tsv` in order into one fresh tenant whose mailbox is `support@desk.example` (every address at '
      '`desk.example` is ours, e.g. `noreply@desk.example`) and checks every expectation.\n')
    w('%d `.eml` files, %d manifest rows (%d mail rows, %d `@reply`, %d `@solve`), %d tickets.\n' % (
        len(FILES), len(ROWS), len(mail_rows), sum(1 for r in ROWS if r[0] == '@reply'),
        sum(1 for r in ROWS if r[0] == '@solve'), NT[0]))
    w('| mail rows | count | share |\n|---|---:|---:|')
    for k, v in [('new ticket, human', hum_new), ('attach, human', hum_att), ('machine (new or attach)', mach),
                 ('duplicate', ex['duplicate'])]:
        w('| %s | %d | %d%% |' % (k, v, round(100.0 * v / len(mail_rows))))
    w('')
    w('## Files\n')
    w('* `NNN-short-name.eml` - raw RFC 5322 mails, numbered in ingest order. Most have LF line endings; %d have '
      'CRLF (real CRLF bytes). Every mail is addressed To or Cc `support@desk.example`.' % sum(
          1 for d in FILES.values() if b'\r\n' in d))
    w('* `manifest.tsv` - the steps, in order (format below).')
    w('* `make_corpus.py` - writes all `.eml` files, `manifest.tsv` and this README deterministically '
      '(python3, standard library only). Edit the generator, not the files, and rerun it.')
    w('* `check_corpus.py` - validates the corpus (see below). Run `python3 check_corpus.py`; exit status 0 = OK.\n')
    w('## manifest.tsv\n')
    w('UTF-8, tab-separated, first line `file\\texpect\\tthread\\tmachine\\tsnippet\\tnote`, then one row per step:\n')
    w('| column | meaning |\n|---|---|')
    w('| `file` | an `.eml` file of this directory, or `@reply` (an agent sends a public reply on the ticket of '
      '`thread`; the test records that reply\'s Message-ID and the ticket\'s token), or `@solve` (an agent sets the '
      'ticket of `thread` to solved) |')
    w('| `expect` | `new` (creates the ticket of label `thread`), `attach` (added to the existing ticket of `thread`), '
      '`duplicate` (a mail already received - the same file again, or another file with the same Message-ID, or for '
      'mails without a Message-ID the same content: nothing is written); `-` for `@reply`/`@solve` |')
    w('| `thread` | a label `t001`, `t002`, ... A label\'s first row is `new`; every later row with that label lands '
      'on the same ticket; different labels are different tickets |')
    w('| `machine` | the machine-generated reason (first that applies, list below) or `-` for human mail; `-` for '
      '`@reply`/`@solve`. Duplicate rows carry the classification of the file itself (always the same as the '
      'copy first received) |')
    w('| `snippet` | 5-40 characters that appear in the stored text after decoding (charset to UTF-8, QP/base64 '
      'decoded; for HTML-only mails visible text, not markup), taken from the NEW part of the mail (not the quoted '
      'history) and never spanning a line break; `-` for `@reply`/`@solve`/`duplicate` |')
    w('| `note` | what the case tests |\n')
    w('### Placeholders inside .eml files (substituted by the test before ingest)\n')
    w('* `{{out:tNNN}}` - the Message-ID, without angle brackets, of the latest `@reply` on the ticket of `tNNN` '
      '(written `<{{out:t005}}>`); an earlier `@reply` row on `tNNN` always exists.')
    w('* `{{token:tNNN}}` - the hidden token exactly as our replies carry it, e.g. `[ref:3f1c...]`, brackets '
      'included; written in quoted parts (`> {{token:t005}}`, HTML quotes, forwarded text, bounce copies).')
    w('* `{{number:tNNN}}` - the ticket\'s number, written `[#{{number:t007}}]` in subjects (and in the subject '
      'of our replies as bounces embed them).')
    w('Placeholders only occur in headers (never inside an RFC 2047 encoded word) and in 7bit/8bit body parts '
      '(never in quoted-printable or base64 text). Parts that carry one are therefore 7bit/8bit even where the '
      'real client would have used quoted-printable.\n')
    w('## Rules the expectations follow\n')
    w('Threading, in this order: (1) `In-Reply-To` names a known id (the Message-ID of a mail already on a ticket, '
      'or of an agent reply we sent); (2) every id in `References`, newest (last) first; (3) our token '
      '`[ref:<ticket uuid>]` anywhere in the body text (from anyone); (4) `[#<number>]` in the subject, only from '
      'a participant (the requester or any address in From/To/Cc of a mail already on that ticket); otherwise a '
      'new ticket. The same-sender/same-subject window is off. Only a mail\'s own Message-ID and our replies\' ids '
      'are known - ids that merely appear in References are not learnt. A delivery report attaches to the ticket of '
      'the mail whose Message-ID is in its embedded original (message/rfc822 or text/rfc822-headers). A reply to a '
      'solved ticket attaches (and reopens it).\n')
    w('Machine reasons, the first that applies: `delivery_report` (multipart/report; report-type=delivery-status, '
      'or a message/delivery-status part at the top level), `own_address` (From @desk.example), `system_sender` '
      '(From local part mailer-daemon or postmaster), `empty_return_path` (`Return-Path: <>`), `auto_submitted` '
      '(Auto-Submitted other than `no`), `autoreply_header` (X-Autoreply, X-Autorespond, X-Autoresponder, '
      'X-AutoReply-From, X-Mail-Autoreply, X-FC-MachineGenerated: true, X-Auto-Reply, X-POST-MessageClass: 9; '
      'Autoresponder), `auto_response_suppress` (X-Auto-Response-Suppress), `precedence` (Precedence bulk, junk, '
      'list or auto_reply), `list` (List-Id or List-Unsubscribe).\n')
    w('| machine reason (mail rows, duplicates not counted) | rows |\n|---|---:|')
    for k in ['delivery_report', 'own_address', 'system_sender', 'empty_return_path', 'auto_submitted',
              'autoreply_header', 'auto_response_suppress', 'precedence', 'list', '-']:
        w('| `%s` | %d |' % (k, mc[k]))
    w('')
    w('## What check_corpus.py verifies\n')
    w('* the manifest format, label order (first row `new`; attach/duplicate/@reply/@solve on existing labels), '
      'that every listed file exists and every `.eml` is listed;')
    w('* placeholders: syntax, an earlier `@reply` for out/token and an earlier `new` for number, and that none sits '
      'in a QP/base64 body or an encoded word;')
    w('* every file parses with python\'s `email` package without defects, has consistent LF or CRLF endings and '
      'lines of at most 998 octets, is addressed To/Cc support@desk.example and names example domains only '
      '(`mail.gmail.com` appears only inside Gmail-shaped Message-IDs);')
    w('* each snippet is found, decoded, on one line of the new (unquoted) text of every text/plain and text/html '
      'body part;')
    w('* a reference model of the rules above (duplicates by Message-ID or a content hash, machine reasons, '
      'threading, bounces) reproduces every row\'s expect, label and machine column.\n')
    w('## Shapes covered (number of .eml files)\n')
    for title, items in TAG_GROUPS:
        w('### %s\n' % title)
        w('| shape | files |\n|---|---:|')
        for tag, desc in items:
            if tagc[tag]:
                w('| %s | %d |' % (desc, tagc[tag]))
        w('')
    w('### Structure (computed from the files)\n')
    w('| property | files |\n|---|---:|')
    sc = structural_counts()
    for k in sorted(sc, key=lambda k: (k.split(' ')[0], -sc[k], k)):
        w('| %s | %d |' % (k, sc[k]))
    w('')
    w('## Known gaps and ambiguities (the rows follow the rules as written)\n')
    for g in GAPS:
        w('* ' + g)
    w('')
    with open(os.path.join(HERE, 'README.md'), 'w', encoding='utf-8', newline='\n') as fh:
        fh.write('\n'.join(out))


GAPS = [
    '`read-receipt-mdn-no-signal`: a read receipt (multipart/report; report-type=disposition-notification) '
    'without Auto-Submitted; RFC 3834 only says MDNs MAY carry `Auto-Submitted: auto-replied`, so many do not. '
    'The desk treats every multipart/report as a report (`delivery_report`), so it is machine-made.',
    '`sendmail-plain-warning-headers-only`: a plain-text (non-RFC 3464) bounce carries our reply\'s Message-ID only '
    'as text in its body; by the rules it is a new (machine) ticket. qmail and old sendmail/Exchange 2003 bounces '
    'look like this. `qmail-plain-bounce-token` attaches only because the returned copy includes our token.',
    '`customer-helpdesk-ack-quotes-token`: other help desks also use `[#N]` subject tokens; their `[#41]` would '
    'match our ticket 41 by number. It is ignored here only because the sender is not a participant (and the '
    'token wins first).',
    '`gmail-vacation-to-solved-ticket`: the manifest can only say `attach`; machine mail attaching to a solved '
    'ticket should probably not reopen it (the human reply after it does).',
    'Duplicate rows: the `machine` column carries the classification of the duplicate file itself (4 duplicate rows '
    'are machine mail: an out-of-office, an NDR, a Postfix bounce, a list cross-post). A duplicate is still machine '
    'mail that must not be answered; if the code reports no reason for duplicates, those rows need `-`.',
    '`own-mta-delayed-dsn`: our own MTA bounces as `MAILER-DAEMON@desk.example`; a sender at a subdomain of ours '
    '(e.g. `@mx-out.desk.example`) is not covered by "anything @desk.example" - the corpus avoids that case.',
    'Participants for `[#N]`: our own addresses are in To/Cc of nearly every mail; the model excludes '
    '`@desk.example` from participants (mails from our own addresses never rely on the subject token here).',
    '`subject-token-domain-case`: addresses are compared case-insensitively (the corpus varies only the '
    'domain\'s case).',
    'Ids are compared without angle brackets and surrounding whitespace (`erp-message-id-without-brackets`, '
    '`message-id-odd-casing-whitespace`, `folded-message-id-and-to`); In-Reply-To takes the first `<...>` '
    '(`outlook-reply-in-reply-to-comment`).',
    'Token search covers the body text parts (text/plain, text/html) and not attachments; `thunderbird-forward-as-'
    'attachment` embeds a message/rfc822 without a token, so either reading works for it.',
]


# --------------------------------------------------------------------------
# output


def write_all():
    for f in os.listdir(HERE):
        if f.endswith('.eml'):
            os.remove(os.path.join(HERE, f))
    for name, data in FILES.items():
        with open(os.path.join(HERE, name), 'wb') as fh:
            fh.write(data)
    with open(os.path.join(HERE, 'manifest.tsv'), 'w', encoding='utf-8', newline='\n') as fh:
        fh.write('file\texpect\tthread\tmachine\tsnippet\tnote\n')
        for r in ROWS:
            assert all('\t' not in c and '\n' not in c for c in r), r
            fh.write('\t'.join(r) + '\n')


if __name__ == '__main__':
    build()
    write_all()
    write_readme()
    print('%d files, %d rows, %d tickets' % (len(FILES), len(ROWS), NT[0]))
