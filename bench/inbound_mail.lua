-- wrk script: inbound mail through the webhook (POST
-- /v1/mailboxes/{id}/mail, Content-Type message/rfc822), each request a
-- mail of its own Message-ID from one of POOL senders (customer-N@bench.example):
-- a third open a ticket, two thirds reply (In-Reply-To and References) to
-- the mail sent 200 requests before, so they thread onto its ticket (the
-- parent answered by then at the bench's 64 connections).
--   wrk -s bench/inbound_mail.lua URL -- MAILBOX_ID POOL
-- The API key comes from the environment (BENCH_API_KEY); done() prints the
-- WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local path = ""
local pool = 1000
local prefix = ""
local counter = 0
local senders = {}

function init(args)
  path = "/v1/mailboxes/" .. args[1] .. "/mail"
  pool = tonumber(args[2] or "1000")
  common.api_key_headers()
  wrk.headers["Content-Type"] = "message/rfc822"
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  prefix = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

local function id(n) return string.format("%s.%d@mail.bench.example", prefix, n) end

function request()
  counter = counter + 1
  local headers, subject, sender
  if counter > 200 and counter % 3 ~= 0 then
    local parent = counter - 200
    sender = senders[parent]
    subject = "Re: Order " .. parent .. " arrived damaged"
    headers = string.format("In-Reply-To: <%s>\r\nReferences: <%s>\r\n", id(parent), id(parent))
  else
    sender = math.random(1, pool)
    subject = "Order " .. counter .. " arrived damaged"
    headers = ""
  end
  senders[counter] = sender
  senders[counter - 400] = nil
  local body = string.format(
    "From: Customer %d <customer-%d@bench.example>\r\nTo: support@bench.example\r\n" ..
    "Subject: %s\r\nMessage-ID: <%s>\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n%s" ..
    "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b%d\"\r\n\r\n" ..
    "--b%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" ..
    "The parcel of order %d arrived with a broken lid. Please send a replacement or refund th=\r\n" ..
    "e item.\r\n\r\n> earlier text quoted here\r\n--b%d\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" ..
    "<p>The parcel of order %d arrived with a broken lid.</p>\r\n--b%d--\r\n",
    sender, sender, subject, id(counter), headers, counter, counter, counter, counter, counter,
    counter)
  return wrk.format("POST", path, nil, body)
end

done = common.done
