#!/usr/bin/python3
"""Small raw-bytes gRPC helper for the bench scripts (no generated stubs).

  grpc_tool.py frame --customer-id ID --out FILE
      writes a length-prefixed gRPC frame of GetCustomerViewRequest{customer_id}
      (the body h2load sends with -d)
  grpc_tool.py health ADDR
      exit 0 if grpc.health.v1.Health/Check answers SERVING
  grpc_tool.py call ADDR METHOD [--customer-id ID] [--md k=v ...] [--out FILE]
      one unary call; exit 1 (code on stderr) unless the status is OK
  grpc_tool.py warm ADDR METHOD --ids FILE [--md k=v ...] [--out-first FILE]
      GetCustomerView once per id (fills the view cache); exit 1 on any
      non-OK status; prints "<calls> <min bytes> <max bytes>"

Run with Debian's /usr/bin/python3 (it has python3-grpcio). 127.0.0.1 only.
"""
import argparse
import struct
import sys

import grpc

TIMEOUT_S = 5


def view_request(customer_id: str) -> bytes:
    # GetCustomerViewRequest: field 1 (customer_id), wire type 2.
    b = customer_id.encode()
    if len(b) >= 128:
        raise SystemExit("customer id too long for the one-byte varint used here")
    return b"\x0a" + bytes([len(b)]) + b


def check_addr(addr: str) -> str:
    if not addr.startswith("127.0.0.1:"):
        raise SystemExit(f"refusing non-loopback address {addr}")
    return addr


def metadata(pairs):
    out = []
    for p in pairs or []:
        k, sep, v = p.partition("=")
        if not sep:
            raise SystemExit(f"--md wants k=v, got {p!r}")
        out.append((k, v))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("frame")
    f.add_argument("--customer-id", required=True)
    f.add_argument("--out", required=True)
    h = sub.add_parser("health")
    h.add_argument("addr")
    c = sub.add_parser("call")
    c.add_argument("addr")
    c.add_argument("method")
    c.add_argument("--customer-id", default="")
    c.add_argument("--md", action="append")
    c.add_argument("--out")
    w = sub.add_parser("warm")
    w.add_argument("addr")
    w.add_argument("method")
    w.add_argument("--ids", required=True)
    w.add_argument("--md", action="append")
    w.add_argument("--out-first")
    a = ap.parse_args()

    if a.cmd == "frame":
        msg = view_request(a.customer_id)
        with open(a.out, "wb") as fh:
            fh.write(struct.pack(">BI", 0, len(msg)) + msg)
        return 0

    channel = grpc.insecure_channel(check_addr(a.addr))
    if a.cmd == "health":
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        try:
            return 0 if check(b"", timeout=2) == b"\x08\x01" else 1
        except grpc.RpcError:
            return 1

    rpc = channel.unary_unary(a.method)
    md = metadata(a.md)
    if a.cmd == "call":
        try:
            reply = rpc(view_request(a.customer_id) if a.customer_id else b"",
                        metadata=md, timeout=TIMEOUT_S)
        except grpc.RpcError as e:
            print(f"{a.method}: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
        if a.out:
            with open(a.out, "wb") as fh:
                fh.write(reply)
        return 0

    # warm
    with open(a.ids) as fh:
        ids = [line.strip() for line in fh if line.strip()]
    sizes = []
    for i, cid in enumerate(ids):
        try:
            reply = rpc(view_request(cid), metadata=md, timeout=TIMEOUT_S)
        except grpc.RpcError as e:
            print(f"warm {cid}: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
        if i == 0 and a.out_first:
            with open(a.out_first, "wb") as fh:
                fh.write(reply)
        sizes.append(len(reply))
    print(len(sizes), min(sizes), max(sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
