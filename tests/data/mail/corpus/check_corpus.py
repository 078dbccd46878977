#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Validates the inbound mail corpus in this directory (python3, standard library only).

    python3 check_corpus.py          # exit status 0 when everything holds

What it checks:
  * manifest.tsv: the exact header, six columns, known expect/machine values,
    snippets of 5-40 characters; every listed file exists and every .eml is listed;
  * labels: a label's first row is `new`; attach/duplicate/@reply/@solve rows name
    a label that exists earlier;
  * placeholders: only {{out:tNNN}}, {{token:tNNN}}, {{number:tNNN}}; out/token
    need an earlier @reply on that label, number an earlier `new`; none inside a
    quoted-printable or base64 body or an RFC 2047 encoded word;
  * every file parses with python's email package without defects, has LF or
    CRLF line endings consistently, lines of at most 998 octets, is addressed To
    or Cc support@desk.example, and uses example domains only;
  * each snippet appears, after decoding, in one line of the NEW (non-quoted)
    text of the mail: in its text/plain body part(s) and in its text/html
    part(s) when it has them;
  * a reference model of the rules in README.md (machine reasons in order,
    duplicates by Message-ID or a content-derived id, threading rules 1-4 and
    bounces by the embedded original) reproduces every row's expect, label and
    machine column.
"""
import hashlib
import os
import re
import sys
from collections import Counter, OrderedDict
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.parser import HeaderParser
from email.utils import getaddresses
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = ['file', 'expect', 'thread', 'machine', 'snippet', 'note']
EXPECTS = {'new', 'attach', 'duplicate'}
CODES = ['delivery_report', 'own_address', 'system_sender', 'empty_return_path', 'auto_submitted',
         'autoreply_header', 'auto_response_suppress', 'precedence', 'list']
OWN_DOMAIN = 'desk.example'
# domains that only ever appear in Message-IDs (the brief asks for Gmail-shaped ids)
ID_ONLY_DOMAINS = {'mail.gmail.com'}
PH = re.compile(r'\{\{(out|token|number):(t\d{3})\}\}')

errors = []


def err(where, msg):
    errors.append('%s: %s' % (where, msg))


# --------------------------------------------------------------------------
# decoding helpers


def header_str(v):
    if v is None:
        return ''
    if isinstance(v, str) and any('\udc80' <= c <= '\udcff' for c in v):
        v = v.encode('ascii', 'surrogateescape').decode('utf-8', 'replace')  # raw UTF-8 header
    try:
        return str(make_header(decode_header(v)))
    except Exception:
        return v


def decoded_text(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ''
    cs = part.get_content_charset() or 'us-ascii'
    try:
        return payload.decode(cs)
    except (LookupError, UnicodeDecodeError) as e:
        raise ValueError('cannot decode %s part as %s: %s' % (part.get_content_type(), cs, e))


class HtmlText(HTMLParser):
    BLOCK = {'p', 'div', 'br', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'blockquote', 'hr', 'pre'}
    SKIP = {'head', 'style', 'script', 'title'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in self.SKIP:
            self.skip += 1
        quote = tag == 'blockquote' or any(k in (a.get('class') or '') for k in ('gmail_quote', 'yahoo_quoted')) \
            or (a.get('id') or '') in ('divRplyFwdMsg', 'appendonsend') \
            or 'border-top:solid #E1E1E1' in (a.get('style') or '') \
            or 'border-top:solid #B5C4DF' in (a.get('style') or '') \
            or 'border-top:1px solid #d5d5d5' in (a.get('style') or '')
        if quote:
            self.out.append('\n\x00\n')
        if tag in self.BLOCK:
            self.out.append('\n')

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        if tag in self.BLOCK:
            self.out.append('\n')

    def handle_data(self, data):
        if not self.skip:
            self.out.append(re.sub(r'\s+', ' ', data))


def html_to_text(h):
    p = HtmlText()
    p.feed(h)
    p.close()
    return ''.join(p.out).replace('\xa0', ' ')


QUOTE_HEAD = [
    re.compile(r'^-{2,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht|Message d\'origine|'
               r'Mensaje original|Weitergeleitete Nachricht|원본 메일|原始邮件|Original)\s*-*', re.I),
    re.compile(r'^_{20,}\s*$'),
    re.compile(r'^Begin forwarded message:'),
    re.compile(r'^.*(wrote|schrieb|schreef|a écrit|escribió|ha scritto|skrev|napisał|escreveu|님이 작성|写道|書きました)\s*[:：]\s*$'),
    re.compile(r'^\d{4}년 .*작성:'),
]
QUOTE_FROM = re.compile(r'^\s*\*?(From|Von|De|Från|Van|Da|보낸 사람|보낸사람|发件人|差出人)\s?[:：]')
QUOTE_SENT = re.compile(r'^\s*\*?(Sent|Gesendet|Envoyé|Skickat|Enviado el|Date|Datum|Verzonden|보낸 날짜|날짜|发送时间|'
                        r'送信日時|Subject|To)\s?[:：]')


def new_part(txt):
    """The lines a sender wrote themselves: up to the first quote header, no "> " lines."""
    lines = txt.replace('\r\n', '\n').split('\n')
    out = []
    for i, l in enumerate(lines):
        s = l.strip()
        if '\x00' in l:
            break
        if any(r.match(s) for r in QUOTE_HEAD):
            break
        if s.startswith('On ') and i + 1 < len(lines) and re.search(r'wrote:\s*$', lines[i + 1]):
            break
        if QUOTE_FROM.match(s) and any(QUOTE_SENT.match(x) for x in lines[i + 1:i + 4]):
            break
        if s.startswith('>'):
            continue
        out.append(l)
    return out


def body_parts(msg):
    """Leaf text parts that are the message's own body (not attachments, not embedded mails)."""
    plain, htm, alltext = [], [], []

    def walk(p):
        ct = p.get_content_type()
        if p.is_multipart():
            for c in p.get_payload():
                walk(c)
            return
        disp = (p.get('Content-Disposition') or '').split(';')[0].strip().lower()
        if ct in ('text/plain', 'text/html') and disp != 'attachment':
            t = decoded_text(p)
            (plain if ct == 'text/plain' else htm).append(t)
            alltext.append(t if ct == 'text/plain' else html_to_text(t))
    walk(msg)
    return plain, htm, alltext


def embedded_ids(msg):
    ids = []
    for p in msg.walk():
        ct = p.get_content_type()
        if ct == 'message/rfc822' and p.is_multipart():
            for inner in p.get_payload():
                ids += [norm_id(v) for v in inner.get_all('Message-ID', [])]
        elif ct == 'text/rfc822-headers':
            h = HeaderParser().parsestr(decoded_text(p))
            ids += [norm_id(v) for v in h.get_all('Message-ID', [])]
    return [i for i in ids if i]


def norm_id(v):
    if not v:
        return None
    v = ' '.join(str(v).split())
    m = re.search(r'<\s*([^<>]+?)\s*>', v)
    return m.group(1) if m else (v.split()[0] if v.split() else None)


def ref_ids(v):
    if not v:
        return []
    v = ' '.join(str(v).split())
    ids = re.findall(r'<\s*([^<>]+?)\s*>', v)
    return ids or v.split()


def addrs(msg, *names):
    vals = []
    for n in names:
        vals += [header_str(x) for x in msg.get_all(n, [])]
    return [a.lower() for _, a in getaddresses(vals) if a]


# --------------------------------------------------------------------------
# the reference model of the rules


def classify(msg):
    ct = msg.get_content_type()
    if ct == 'multipart/report':  # delivery-status and disposition-notification alike
        return 'delivery_report'
    if ct == 'message/delivery-status' or (msg.is_multipart() and any(
            c.get_content_type() == 'message/delivery-status' for c in msg.get_payload())):
        return 'delivery_report'
    frm = addrs(msg, 'From')
    if frm and frm[0].endswith('@' + OWN_DOMAIN):
        return 'own_address'
    if frm and frm[0].split('@')[0] in ('mailer-daemon', 'postmaster'):
        return 'system_sender'
    rp = msg.get('Return-Path')
    if rp is not None and rp.strip() == '<>':
        return 'empty_return_path'
    a = msg.get('Auto-Submitted')
    if a is not None and a.split(';')[0].strip().lower() != 'no':
        return 'auto_submitted'
    for h in ('X-Autoreply', 'X-Autorespond', 'X-Autoresponder', 'X-AutoReply-From', 'X-Mail-Autoreply',
              'X-Auto-Reply'):
        if msg.get(h) is not None:
            return 'autoreply_header'
    if (msg.get('X-FC-MachineGenerated') or '').strip().lower() == 'true':
        return 'autoreply_header'
    if re.match(r'^\s*9\s*;\s*autoresponder', msg.get('X-POST-MessageClass') or '', re.I):
        return 'autoreply_header'
    if msg.get('X-Auto-Response-Suppress') is not None:
        return 'auto_response_suppress'
    if (msg.get('Precedence') or '').strip().lower() in ('bulk', 'junk', 'list', 'auto_reply'):
        return 'precedence'
    if msg.get('List-Id') is not None or msg.get('List-Unsubscribe') is not None:
        return 'list'
    return '-'


class Model:
    def __init__(self):
        self.known = {}        # message id -> ticket
        self.received = {}     # message id -> ticket (inbound only, for duplicates)
        self.tickets = []      # [{'number', 'uuid', 'participants', 'requester'}]
        self.out = {}          # label -> latest reply id
        self.token = {}        # label -> token text
        self.nreply = Counter()

    def ticket_by_number(self, n):
        return n - 1 if 1 <= n <= len(self.tickets) else None

    def ingest(self, data, msg):
        mid = norm_id(msg.get('Message-ID'))
        if not mid:
            mid = 'derived-' + hashlib.sha256(data).hexdigest()
        if mid in self.received:
            return 'duplicate', self.received[mid]
        machine = classify(msg)
        t = None
        if machine == 'delivery_report':
            for i in embedded_ids(msg):
                if i in self.known:
                    t = self.known[i]
                    break
        if t is None:
            irt = norm_id(msg.get('In-Reply-To'))
            if irt in self.known:
                t = self.known[irt]
        if t is None:
            for r in reversed(ref_ids(msg.get('References'))):
                if r in self.known:
                    t = self.known[r]
                    break
        if t is None:
            _, _, texts = body_parts(msg)
            for txt in texts:
                m = re.search(r'\[ref:([0-9a-f-]{36})\]', txt)
                if m:
                    for k, tk in enumerate(self.tickets):
                        if tk['uuid'] == m.group(1):
                            t = k
                    if t is not None:
                        break
        if t is None:
            m = re.search(r'\[#(\d+)\]', header_str(msg.get('Subject')))
            if m:
                k = self.ticket_by_number(int(m.group(1)))
                frm = addrs(msg, 'From')
                if k is not None and frm and frm[0] in self.tickets[k]['participants']:
                    t = k
        expect = 'attach'
        if t is None:
            frm = addrs(msg, 'From')
            n = len(self.tickets) + 1
            self.tickets.append({'number': n, 'uuid': '%08x-0000-4000-8000-%012x' % (n, n),
                                 'participants': set(), 'requester': frm[0] if frm else None})
            t = n - 1
            expect = 'new'
        for a in addrs(msg, 'From', 'To', 'Cc'):
            if not a.endswith('@' + OWN_DOMAIN):
                self.tickets[t]['participants'].add(a)
        self.known[mid] = t
        self.received[mid] = t
        return expect, t

    def agent_reply(self, t, label):
        self.nreply[label] += 1
        rid = 'reply-%d-%s@%s' % (self.nreply[label], label, OWN_DOMAIN)
        self.known[rid] = t
        self.out[label] = rid
        self.token[label] = '[ref:%s]' % self.tickets[t]['uuid']


# --------------------------------------------------------------------------


def main():
    man = os.path.join(HERE, 'manifest.tsv')
    with open(man, encoding='utf-8') as fh:
        lines = fh.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    if lines[0].split('\t') != HEADER:
        err('manifest.tsv', 'header must be %r' % '\t'.join(HEADER))
    rows = []
    for n, l in enumerate(lines[1:], 2):
        c = l.split('\t')
        if len(c) != 6:
            err('manifest.tsv:%d' % n, 'expected 6 columns, got %d' % len(c))
            continue
        if any(x == '' for x in c):
            err('manifest.tsv:%d' % n, 'empty column')
        rows.append((n, c))

    emls = sorted(f for f in os.listdir(HERE) if f.endswith('.eml'))
    listed = set()
    labels = OrderedDict()       # label -> model ticket index
    replied, created = set(), set()
    model = Model()
    stats = Counter()
    machine_stats = Counter()
    crlf_files = set()
    checked_files = {}

    for n, (f, expect, label, machine, snippet, note) in rows:
        where = 'manifest.tsv:%d (%s)' % (n, f)
        if not re.fullmatch(r't\d{3}', label):
            err(where, 'bad label %r' % label)
        if f in ('@reply', '@solve'):
            if expect != '-' or machine != '-' or snippet != '-':
                err(where, '@reply/@solve rows need - in expect, machine and snippet')
            if label not in labels:
                err(where, '%s on a label that does not exist yet' % f)
                continue
            if f == '@reply':
                model.agent_reply(labels[label], label)
                replied.add(label)
            stats[f] += 1
            continue
        if expect not in EXPECTS:
            err(where, 'bad expect %r' % expect)
        if machine != '-' and machine not in CODES:
            err(where, 'bad machine code %r' % machine)
        if expect == 'duplicate':
            if snippet != '-':
                err(where, 'a duplicate row has snippet -')
        elif not (5 <= len(snippet) <= 40) or '\t' in snippet:
            err(where, 'snippet must be 5-40 characters: %r' % snippet)
        if expect == 'new' and label in labels:
            err(where, 'label %s already exists' % label)
        if expect != 'new' and label not in labels:
            err(where, 'label %s used before its `new` row' % label)
        path = os.path.join(HERE, f)
        if not os.path.isfile(path):
            err(where, 'file does not exist')
            continue
        listed.add(f)
        raw = open(path, 'rb').read()
        text = raw.decode('latin-1')

        # line endings, line length
        if b'\r\n' in raw:
            crlf_files.add(f)
            if re.search(rb'(?<!\r)\n', raw) or re.search(rb'\r(?!\n)', raw):
                err(f, 'mixed line endings')
        elif b'\r' in raw:
            err(f, 'bare CR')
        if any(len(x) > 998 for x in raw.replace(b'\r\n', b'\n').split(b'\n')):
            err(f, 'a line longer than 998 octets')
        if len(raw) > 12000:
            err(f, 'larger than 12 KB (%d)' % len(raw))

        # placeholders: syntax, references, contexts
        for m in re.finditer(r'\{\{[^}]*\}\}|\{\{', text):
            pm = PH.fullmatch(m.group(0))
            if not pm:
                err(f, 'malformed placeholder %r' % m.group(0))
                continue
            kind, pl = pm.groups()
            if kind in ('out', 'token') and pl not in replied:
                err(where, '{{%s:%s}} without an earlier @reply on %s' % (kind, pl, pl))
            if kind == 'number' and pl not in labels:
                err(where, '{{number:%s}} before %s exists' % (pl, pl))
        if re.search(r'=\?[^?\s]*\?[bBqQ]\?[^?\s]*\{\{', text):
            err(f, 'placeholder inside an RFC 2047 encoded word')
        pre = message_from_bytes(raw, policy=policy.compat32)
        for p in pre.walk():
            if p.is_multipart():
                continue
            cte = (p.get('Content-Transfer-Encoding') or '7bit').strip().lower()
            payload = p.get_payload()
            if isinstance(payload, str) and '{{' in payload and cte in ('quoted-printable', 'base64'):
                err(f, 'placeholder inside a %s body' % cte)

        # substitute and parse
        def sub(m):
            kind, pl = m.groups()
            if kind == 'out':
                return model.out.get(pl, 'missing@x')
            if kind == 'token':
                return model.token.get(pl, '[ref:missing]')
            return str(model.tickets[labels[pl]]['number']) if pl in labels else '0'
        data = PH.sub(sub, text).encode('latin-1')
        msg = message_from_bytes(data, policy=policy.compat32)
        defects = list(msg.defects)
        for p in msg.walk():
            defects += p.defects
        if defects:
            err(f, 'parser defects: %s' % ', '.join(type(d).__name__ for d in defects))
        for h in ('From', 'Date'):
            if msg.get(h) is None:
                err(f, 'no %s header' % h)
        if 'support@desk.example' not in addrs(msg, 'To', 'Cc'):
            err(f, 'not addressed To or Cc support@desk.example')

        try:
            plain, htm, alltext = body_parts(msg)
        except ValueError as e:
            err(f, str(e))
            continue

        # example domains only
        scan = ''
        for p in msg.walk():
            scan += '\n'.join('%s: %s' % (k, header_str(v)) for k, v in p.items()) + '\n'
            if not p.is_multipart() and p.get_content_maintype() in ('text', 'message'):
                scan += decoded_text(p) + '\n'
        for dom in set(d.lower().rstrip('.') for d in re.findall(r'[\w.%+=-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)',
                                                                 scan)):
            if 'example' not in dom.split('.') and dom not in ID_ONLY_DOMAINS and not dom.endswith('.local'):
                err(f, 'non-example domain %s' % dom)

        # snippet in the new text
        if expect != 'duplicate':
            ok_plain = any(any(snippet in l for l in new_part(t)) for t in plain) if plain else True
            ok_html = any(any(snippet in l for l in new_part(html_to_text(t))) for t in htm) if htm else True
            if not (plain or htm):
                err(f, 'no text body')
            if not ok_plain:
                err(where, 'snippet %r not in the new text of the text/plain part' % snippet)
            if not ok_html:
                err(where, 'snippet %r not in the new text of the text/html part' % snippet)

        # the model
        got_machine = classify(msg)
        if got_machine != machine:
            err(where, 'machine: manifest says %s, the rules give %s' % (machine, got_machine))
        got_expect, t = model.ingest(data, msg)
        if expect == 'new':
            if got_expect != 'new':
                err(where, 'expected new, the rules give %s to %s' % (got_expect, label_of(labels, t)))
            labels[label] = t
            created.add(label)
        elif got_expect != expect:
            err(where, 'expected %s, the rules give %s (%s)' % (expect, got_expect, label_of(labels, t)))
        elif label in labels and labels[label] != t:
            err(where, 'expected %s on %s, the rules give %s' % (expect, label, label_of(labels, t)))
        stats[expect] += 1
        machine_stats[machine] += 1
        checked_files[f] = 1

    for f in emls:
        if f not in listed:
            err(f, 'not listed in manifest.tsv')

    print('%d .eml files, %d manifest rows, %d tickets' % (len(emls), len(rows), len(labels)))
    print('rows: ' + ', '.join('%s %d' % kv for kv in sorted(stats.items())))
    print('machine: ' + ', '.join('%s %d' % kv for kv in sorted(machine_stats.items())))
    print('CRLF files: %d' % len(crlf_files))
    if len(emls) < 200:
        err('corpus', 'fewer than 200 .eml files')
    if errors:
        print('\n%d problem(s):' % len(errors))
        for e in errors:
            print('  ' + e)
        return 1
    print('OK')
    return 0


def label_of(labels, t):
    for k, v in labels.items():
        if v == t:
            return k
    return 'a new ticket' if t is not None else '?'


if __name__ == '__main__':
    sys.exit(main())
