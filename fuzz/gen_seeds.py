#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into fuzz/seeds/<target>/.

Seeds: every client frame or request of the TSRPC captures (shared/tsrpc-captures/*.txt), the
bad-input rows of TSRPC-WIRE.md a.7 (WebSocket) and b.2 (HTTP), and the edge cases of issue 5
(sn 0 / negative / fractional / huge, deep nesting, invalid UTF-8, long names, fragments); for
tsbuffer_decode, every hex string of the kitchen-sink corpus (tests/kitchen-sink/vectors.json:
vectors, frames, invalidBinary, toleratedBinary, oddValues), behind the byte that selects its type.

    python3 fuzz/gen_seeds.py [path/to/tsrpc-captures]
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "shared", "tsrpc-captures")
if not os.path.isdir(CAPTURES):
    CAPTURES = "/work/shared/tsrpc-captures"
MASK = bytes([0x37, 0xFA, 0x21, 0x3D])  # as rpc_runtime::__fuzz::masked_frame


def frame(opcode, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b0, m | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


def text(s):
    return frame(0x1, s if isinstance(s, bytes) else s.encode())


def close(code=1000, reason=b""):
    return frame(0x8, code.to_bytes(2, "big") + reason)


def http(method, path, body=b"", ctype="application/json", extra=""):
    if isinstance(body, str):
        body = body.encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    head += extra
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def capture_lines(name, prefix):
    with open(os.path.join(CAPTURES, name), encoding="utf-8") as f:
        return [l[len(prefix):].rstrip("\n") for l in f if l.startswith(prefix)]


# --- WebSocket: the JSON captures and a.7 ------------------------------------------------------
ws_texts = {}
for i, t in enumerate(capture_lines("ws-json.txt", "C->S TEXT ")):
    ws_texts[f"capture-{i:02}"] = t.encode()
bad_ws = {
    # TSRPC-WIRE.md a.7, one per row.
    "a7-unknown-api": '["Nope",{},12]',
    "a7-api-without-sn": '["Add",{"a":1,"b":2}]',
    "a7-type-mismatch": '["Add",{"a":"x","b":2},2]',
    "a7-missing-property": '["Add",{"a":1},3]',
    "a7-not-an-array": '{"a":1}',
    "a7-not-json": "not json",
    "a7-nested-type": '["room/UserJoin",{"roomId":"r1","user":{"id":"x","name":"b"},"tags":[]}]',
    "a7-array-item": '["room/UserJoin",{"roomId":"r1","user":{"id":1,"name":"b"},"tags":[3]}]',
    "a7-array-type": '["room/UserJoin",{"roomId":"r1","user":{"id":1,"name":"b"},"tags":"no"}]',
    "a7-uint-negative": '["GameBurst",{"frames":-1},4]',
    "a7-uint-fraction": '["GameBurst",{"frames":1.5},5]',
    "a7-literal-union": '["Fail",{"mode":"zzz"},6]',
    "a7-null-not-nullable": '["room/UserJoin",{"roomId":"r1","user":null,"tags":[]}]',
    "a7-long-name": '["' + "N" * 200 + '",{},1]',
    # Issue 5's bad-input catalogue.
    "sn-zero": '["Add",{"a":1,"b":2},0]',
    "sn-negative": '["Add",{"a":1,"b":2},-1]',
    "sn-fraction": '["Add",{"a":1,"b":2},1.5]',
    "sn-huge": '["Add",{"a":1,"b":2},1e400]',
    "sn-2p53": '["Add",{"a":1,"b":2},9007199254740993]',
    "sn-string": '["Add",{"a":1,"b":2},"1"]',
    "unknown-and-duplicate-fields": '["Add",{"a":1,"b":2,"a":5,"zzz":[{}]},7]',
    "deep-nesting": '["Add",' + "[" * 5000 + "]" * 5000 + ",8]",
    "deep-nesting-body": '["Add",{"a":' + '{"x":' * 3000 + "1" + "}" * 3000 + ',"b":2},9]',
    "huge-number": '["Add",{"a":1e308,"b":1e308},10]',
    "number-overflow": '["Add",{"a":1e999,"b":2},11]',
    "slow": '["Slow",{"ms":5},12]',
    "game-burst": '["GameBurst",{"frames":3},13]',
    "kick": '["Kick",{"reason":"' + "é" * 100 + '"},14]',
    "empty-array": "[]",
    "name-only": '["Add"]',
    "escaped-name": '["\\u0041dd",{"a":1,"b":2},15]',
    "unicode-body": '["Chat",{"name":"\\ud83d\\ude00","content":"\\ud800"}]',
    "extra-elements": '["Add",{"a":1,"b":2},16,17,[18]]',
}
ws_texts.update({k: v.encode() for k, v in bad_ws.items()})
ws_texts["invalid-utf8"] = b'["Chat",{"name":"\xff\xfe","content":"\xc3"}]'

ws_frames = {k: v for k, v in ((k, text(v)) for k, v in ws_texts.items())}
# Several frames per connection: heartbeat, calls, close (a.9's session).
ws_frames["session"] = frame(0x2, b"\x00") + b"".join(
    text(t) for t in capture_lines("ws-json.txt", "C->S TEXT ")[:4])
ws_frames["session-then-close"] = ws_frames["session"] + close()
for i, h in enumerate(re.findall(r"C->S BIN\s+len=\d+ hex=([0-9a-f]+)",
                                 open(os.path.join(CAPTURES, "ws-binary.txt")).read())):
    ws_frames[f"binary-capture-{i:02}"] = frame(0x2, bytes.fromhex(h))
ws_frames["a7-binary-garbage"] = frame(0x2, b"\xff\xff")
ws_frames["heartbeat"] = frame(0x2, b"\x00")
ws_frames["unmasked"] = frame(0x1, b'["Add",{"a":1,"b":2},1]', mask=False)
ws_frames["fragmented"] = (frame(0x1, b'["Add",{"a":1,', fin=False) + frame(0x9, b"p")
                           + frame(0x0, b'"b":2},1]'))
ws_frames["ping-pong"] = frame(0x9, b"ping") + frame(0xA, b"pong") + text('["Add",{"a":1,"b":2},1]')
ws_frames["close-with-reason"] = close(4000, b"bye")
ws_frames["close-bad-code"] = close(999, b"\xff")
ws_frames["oversize-header"] = bytes([0x81, 0xFF]) + (1 << 40).to_bytes(8, "big") + MASK
ws_frames["reserved-bits"] = bytes([0xF1, 0x80]) + MASK
ws_frames["unknown-opcode"] = frame(0x3, b"x")
ws_frames["after-close"] = close() + text('["Add",{"a":1,"b":2},1]')

# --- HTTP: the captures and b.2 ----------------------------------------------------------------
http_seeds = {}
cap = open(os.path.join(CAPTURES, "http-json.txt")).read()
for i, (path, body) in enumerate(re.findall(r"C->S POST (\S+)\s+Content-Type: application/json\n\s+body: (.*)", cap)):
    http_seeds[f"capture-{i:02}"] = http("POST", path, body)
cap = open(os.path.join(CAPTURES, "http-binary.txt")).read()
for i, h in enumerate(re.findall(r"body hex: ([0-9a-f]+)\n\s+= ServerInputData", cap)):
    http_seeds[f"binary-capture-{i:02}"] = http("POST", "/", bytes.fromhex(h), "application/octet-stream")
http_seeds.update({
    # TSRPC-WIRE.md b.2, one per row.
    "b2-unknown-api": http("POST", "/Nope", "{}"),
    "b2-unknown-msg": http("POST", "/Nope?type=msg", "{}"),
    "b2-msg-without-type": http("POST", "/Chat", '{"name":"a","content":"b"}'),
    "b2-empty-body": http("POST", "/Add", ""),
    "b2-type-error": http("POST", "/Add", '{"a":"x","b":2}'),
    "b2-binary-garbage": http("POST", "/", b"\xff\xff", "application/octet-stream"),
    "b2-get": b"GET /Add HTTP/1.1\r\nHost: x\r\n\r\n",
    "b2-options": b"OPTIONS /Add HTTP/1.1\r\nHost: x\r\n\r\n",
    # Issue 5's catalogue, over HTTP.
    "keep-alive-two": http("POST", "/Add", '{"a":1,"b":2}') + http("POST", "/Stats", "{}"),
    "chunked": (b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n8\r\n1,\"b\":2}\r\n0\r\n\r\n"),
    "content-length-too-big": (b"POST /Add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 99999999999\r\n\r\n{}"),
    "deep-nesting": http("POST", "/Add", "[" * 5000 + "]" * 5000),
    "invalid-utf8": http("POST", "/Chat?type=msg", b'{"name":"\xff","content":"\xc3"}'),
    "msg-query": http("POST", "/room/UserJoin?x=1&type=msg",
                      '{"roomId":"r1","user":{"id":7,"name":"bob"},"tags":["x"]}'),
    "forwarded": http("POST", "/Login", '{"username":"a","password":"wrong"}',
                      extra="X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n"),
    "absolute-uri": http("POST", "http://h/Add?type=msg", '{"a":1,"b":2}'),
    "game-burst": http("POST", "/GameBurst", '{"frames":2}'),
    "kick": http("POST", "/Kick", '{"reason":"x\\ny"}'),
    "upgrade": (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Protocol: text\r\n\r\n") + text('["Add",{"a":1,"b":2},1]'),
    "upgrade-bad": b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
})


def write(target, seeds):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds in {d}")


# --- TSBuffer: the kitchen-sink corpus ----------------------------------------------------------
# tsbuffer_decode reads its first byte as what the rest is (fuzz_targets/tsbuffer_decode.rs,
# `KINDS`): 0 a ServerInputData frame, 1 a ServerOutputData frame, 2.. these schemas in order.
TSBUFFER_KINDS = ["ServerInputData", "ServerOutputData",
                  "MsgChat/MsgChat", "MsgServerNotice/MsgServerNotice",
                  "PtlGetProfile/ReqGetProfile", "PtlGetProfile/ResGetProfile",
                  "PtlLogin/ReqLogin", "PtlLogin/ResLogin",
                  "PtlUpdateProfile/ReqUpdateProfile", "PtlUpdateProfile/ResUpdateProfile",
                  "room/MsgPlayerMove/MsgPlayerMove", "room/MsgRoomState/MsgRoomState",
                  "room/PtlCreateRoom/ReqCreateRoom", "room/PtlCreateRoom/ResCreateRoom",
                  "room/PtlJoinRoom/ReqJoinRoom", "room/PtlJoinRoom/ResJoinRoom",
                  "shop/MsgPriceChanged/MsgPriceChanged",
                  "shop/PtlBuy/ReqBuy", "shop/PtlBuy/ResBuy",
                  "shop/PtlListItems/ReqListItems", "shop/PtlListItems/ResListItems"]
with open(os.path.join(HERE, "..", "tests", "kitchen-sink", "vectors.json"), encoding="utf-8") as f:
    kitchen = json.load(f)
tsbuffer_seeds = {}
for group in ("vectors", "frames", "invalidBinary", "toleratedBinary", "oddValues"):
    for i, v in enumerate(kitchen[group]):
        kind = v.get("wrapper") or v["type"]
        if v.get("hex") is None:
            continue  # bigint: no binary form
        tsbuffer_seeds[f"{group}-{i:02}"] = bytes([TSBUFFER_KINDS.index(kind)]) + bytes.fromhex(v["hex"])


write("ws_text", ws_texts)
write("ws_frames", ws_frames)
write("http_request", http_seeds)
write("tsbuffer_decode", tsbuffer_seeds)
