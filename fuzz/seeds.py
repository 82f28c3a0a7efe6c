#!/usr/bin/env python3
"""Write fuzz/seeds/ from the repository's own files (rerun when they change).

seeds/mutated_valid/: examples/flags.json and each tests/conformance/*.json "file".
seeds/evaluate/: each conformance case's context; seeds/context_json/: the same
wrapped as an OFREP body {"context": ...} (run.sh gives context_json both);
seeds/ofrep_handler/: some of those bodies as requests (see ofrep_handler.rs).
"""
import hashlib, json, pathlib, shutil

fuzz = pathlib.Path(__file__).resolve().parent
root = fuzz.parent
seeds = fuzz / "seeds"


def write(target, name, text):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")


for t in ("mutated_valid", "evaluate", "context_json", "ofrep_handler"):
    shutil.rmtree(seeds / t, ignore_errors=True)

write("mutated_valid", "examples-flags.json", (root / "examples/flags.json").read_text(encoding="utf-8"))
contexts = {}
for path in sorted((root / "tests/conformance").glob("*.json")):
    doc = json.loads(path.read_text(encoding="utf-8"))
    if "file" in doc:
        write("mutated_valid", path.name, json.dumps(doc["file"], ensure_ascii=False, indent=2) + "\n")
    for case in doc.get("cases", []):
        if "context" in case:
            text = json.dumps(case["context"], ensure_ascii=False)
            contexts[hashlib.sha1(text.encode()).hexdigest()[:12]] = text
for h, text in sorted(contexts.items()):
    write("evaluate", f"ctx-{h}.json", text)
    write("context_json", f"body-{h}.json", '{"context": ' + text + "}")
# ofrep_handler: byte 0 selects route and headers, byte 1 the key length (0
# here: the key comes from byte 0), then the body; see ofrep_handler.rs.
selectors = [0x00, 0x04, 0x30 | 0x80, 0x40 | 0x80, 0x40 | 0x08 | 0x30, 0x20]
for i, (h, text) in enumerate(sorted(contexts.items())[:24]):
    sel = selectors[i % len(selectors)]
    d = seeds / "ofrep_handler"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"req-{h}").write_bytes(bytes([sel, 0]) + ('{"context": ' + text + "}").encode())
# Shaped bodies (`#`, depth, width/64, pattern): at and past the depth and
# value limits, arrays and objects mixed.
for depth, width, pattern in [(62, 1, 0x00), (64, 2, 0xAA), (70, 1, 0xFF), (3, 156, 0x0F), (1, 157, 0x00), (40, 100, 0x55)]:
    (seeds / "ofrep_handler" / f"shape-{depth}-{width}-{pattern:02x}").write_bytes(
        bytes([0x00, 0, ord("#"), depth, width]) + bytes([pattern] * 10)
    )
print({t: len(list((seeds / t).iterdir())) for t in ("mutated_valid", "evaluate", "context_json", "ofrep_handler")})
