#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Doc checks for fulcrum (python3 standard library only).

extract ROOT OUT_DIR
    Writes every ```cpp fenced block of README.md and docs/*.md into OUT_DIR as a translation unit
    named after its file and line (README_md_L40.cpp) and prints the generated paths, one per line.
    Files are rewritten only when their text changes; stale ones are removed. The rules:

    1. Only blocks whose info string is exactly `cpp` (or `c++`) are compiled. Other languages
       (sh, cmake, json, text, cuda, ...) are not.
    2. An HTML comment `<!-- snippet: skip (reason) -->` on the line right before the fence (blank
       lines allowed in between) excludes one block. Use it sparingly: for code that needs a
       toolchain the docs test does not have.
    3. A block that defines `main(` is a whole program: it is compiled exactly as written.
    4. Any other block is a fragment: its `#include` lines are moved to file scope and the rest
       becomes the body of a function, after a prelude of standard library headers only
       (<algorithm> <array> <cstddef> <cstdint> <functional> <iostream> <memory> <numeric>
       <span> <string> <string_view> <utility> <vector>). A fragment therefore includes every
       fulcrum header it uses, exactly as a reader must, and declares every variable it uses.
    `#line` directives map diagnostics to the markdown file and line.

check ROOT
    Checks the fences of README.md and docs/*.md (every fence closed), their relative links
    ([text](path)), and that every `*.md` file cited in README.md, docs/, include/, tools/,
    examples/ and bench/ sources exists in the
    repository (relative to the citing file, to the repository root or to docs/). Generated
    outputs (paths under build/) and placeholders in capitals (OUT.md) are not citations.
"""
import os
import re
import sys

PRELUDE = [
    "algorithm", "array", "cstddef", "cstdint", "functional", "iostream", "memory", "numeric",
    "span", "string", "string_view", "utility", "vector",
]
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)")
SKIP = re.compile(r"<!--\s*snippet:\s*skip\b")
INCLUDE = re.compile(r"^\s*#\s*include\b")
MAIN = re.compile(r"\bmain\s*\(")


def doc_files(root):
    files = []
    if os.path.isfile(os.path.join(root, "README.md")):
        files.append("README.md")
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        files += sorted("docs/" + f for f in os.listdir(docs) if f.endswith(".md"))
    return files


def blocks(root, rel):
    """Yields (language, first_code_line (1-based), lines, skipped) for each fenced block; raises
    ValueError for an unclosed fence."""
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    last_text = ""
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                last_text = lines[i]
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        skipped = bool(SKIP.search(last_text))
        start = i
        body = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and stripped.strip(fence[0]) == "":
                break
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        else:
            raise ValueError(f"{rel}:{start + 1}: fence {fence}{lang} is never closed")
        yield lang, start + 2, body, skipped
        last_text = ""
        i += 1


def translation_unit(rel, first, body):
    name = re.sub(r"[^A-Za-z0-9]", "_", rel)
    out = [f"// Generated from {rel} line {first - 1} by tests/docs/doc_snippets.py: edit the markdown."]
    if any(MAIN.search(l) for l in body):
        out.append(f'#line {first} "{rel}"')
        out += body
        return "\n".join(out) + "\n"
    out += [f"#include <{h}>" for h in PRELUDE]
    for n, line in enumerate(body):
        if INCLUDE.match(line):
            out.append(f'#line {first + n} "{rel}"')
            out.append(line)
    out.append(f"[[maybe_unused]] static void fulcrum_doc_snippet_{name}_L{first - 1}() {{")
    out.append(f'#line {first} "{rel}"')
    out += ["" if INCLUDE.match(l) else l for l in body]
    out.append("}")
    return "\n".join(out) + "\n"


def extract(root, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    wanted = {}
    for rel in doc_files(root):
        for lang, first, body, skipped in blocks(root, rel):
            if lang not in ("cpp", "c++") or skipped:
                continue
            fname = re.sub(r"[^A-Za-z0-9]", "_", rel.replace("/", "__")) + f"_L{first - 1}.cpp"
            wanted[fname] = translation_unit(rel, first, body)
    for fname in sorted(os.listdir(out_dir)):
        if fname.endswith(".cpp") and fname not in wanted:
            os.remove(os.path.join(out_dir, fname))
    for fname, text in sorted(wanted.items()):
        path = os.path.join(out_dir, fname)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        print(path.replace("\\", "/"))
    return 0


CITE = re.compile(r"(?<![A-Za-z0-9_./-])([A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)\b")
LINK = re.compile(r"\]\(([^)\s]+)\)")
SOURCE_EXT = (".md", ".hpp", ".cuh", ".cpp", ".cu", ".h", ".py", ".txt", ".cmake", ".sh")


def cited_files(root):
    files = doc_files(root)
    for top in ("include", "tools", "examples", "bench"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith(SOURCE_EXT):
                    files.append(os.path.relpath(os.path.join(dirpath, n), root).replace("\\", "/"))
    return files


def check(root):
    errors = []
    for rel in doc_files(root):
        try:
            for _ in blocks(root, rel):
                pass
        except ValueError as e:
            errors.append(str(e))
    for rel in doc_files(root):
        here = os.path.dirname(os.path.join(root, rel))
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                for m in LINK.finditer(line):
                    target = m.group(1).split("#")[0]
                    if not target or re.match(r"^[a-z]+:", target):
                        continue
                    if not os.path.exists(os.path.join(here, target)):
                        errors.append(f"{rel}:{n}: links to {m.group(1)}, which does not exist")
    for rel in cited_files(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                for m in CITE.finditer(line):
                    cite = m.group(1).lstrip("./") if m.group(1).startswith("./") else m.group(1)
                    base = os.path.basename(cite)
                    if cite.startswith("build/") or base[:-3].isupper() and base not in (
                            "DESIGN.md", "WORKLOADS.md", "STYLE.md", "BACKGROUND.md", "README.md"):
                        continue
                    here = os.path.dirname(os.path.join(root, rel))
                    candidates = [os.path.join(here, cite), os.path.join(root, cite.lstrip("/")),
                                  os.path.join(root, "docs", cite)]
                    if not any(os.path.isfile(c) for c in candidates):
                        errors.append(f"{rel}:{n}: cites {m.group(1)}, which is not in the repository")
    for e in errors:
        print(e)
    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        return 1
    print("PASS: fences closed, relative links resolve, every cited .md file exists")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "extract":
        return extract(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
