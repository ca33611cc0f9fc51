"""A paper's text, by section: from arXiv's LaTeXML HTML, from a LaTeX source bundle, or from snippets.

Pure functions, no I/O: bytes and JSON in, :class:`ParsedText` out (a list of
``{"title", "text"}`` in reading order, plus the arXiv version and licence
where the text says).

- :func:`html_sections` reads LaTeXML's structure: ``<section class="ltx_section">``
  (and ``ltx_appendix``, ``ltx_subsection``) with their ``ltx_title`` headings,
  the ``ltx_abstract``; math becomes its ``alttext``. Left out: navigation,
  page header and footer, authors, the bibliography, figures and tables with
  their captions, footnotes, scripts and styles.
- :func:`read_eprint` opens an e-print **in memory** (nothing is ever written
  to disk, so a member named ``../../x`` cannot land anywhere; such a bundle is
  refused all the same), with a cap on decompressed bytes (a gzip bomb is one
  :class:`~rlmllm_graph.errors.MalformedText`). :func:`latex_sections` finds
  the main ``.tex`` (the one with ``\\documentclass``), resolves ``\\input``
  and ``\\include`` (with or without ``.tex``, in subfolders, cycles and depth
  bounded), expands macros without arguments (``\\newcommand{\\method}{GRPO}``,
  ``\\def\\method{GRPO}``, also from the bundle's own ``.sty`` files), drops
  comments, figure and table environments, captions, footnotes and the
  bibliography, and splits on ``\\section``, ``\\subsection`` and ``\\appendix``.
- :func:`snippet_sections` groups Semantic Scholar snippets by section.

Titles: a section's own title (``Method``); a subsection is ``Method / Reward
design``; an appendix is ``Appendix A: Training details``. Deeper levels
(``\\subsubsection``, ``\\paragraph``) stay in their subsection's text.
One paper keeps at most :data:`MAX_PAPER_CHARS` characters of text
(:func:`bound_sections`): the sections in reading order until the bound,
the last one cut at a sentence end.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from .errors import MalformedText

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "MAX_PAPER_CHARS",
    "Eprint",
    "ParsedText",
    "bound_sections",
    "html_sections",
    "latex_sections",
    "read_eprint",
    "snippet_sections",
]

MAX_PAPER_CHARS = 300_000  # text one paper may store (before compression): a long paper with appendices
MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024  # what an e-print may unpack to
MAX_MEMBERS = 20_000  # members of one source tarball
MAX_TEX_CHARS = 20_000_000  # TeX read from one bundle, \input expanded
MAX_INPUT_DEPTH = 16


@dataclass
class ParsedText:
    """A paper's sections in reading order, and what the text says about itself."""

    sections: list[dict[str, str]] = field(default_factory=list)
    version: str | None = None
    licence: str | None = None
    truncated: bool = False  # bound_sections cut it


def _clean(text: str) -> str:
    """Blanks collapsed inside paragraphs; paragraphs separated by one blank line."""
    paras = []
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split())
        if block:
            paras.append(block)
    return "\n\n".join(paras)


def bound_sections(sections: list[dict[str, str]], max_chars: int = MAX_PAPER_CHARS) -> tuple[list[dict[str, str]], bool]:
    """At most ``max_chars`` of text: whole sections in order, the last cut at a sentence end. (sections, cut?)"""
    out: list[dict[str, str]] = []
    left = max_chars
    for sec in sections:
        text = sec["text"]
        if len(text) <= left:
            out.append(sec)
            left -= len(text)
            continue
        if left > 200:
            cut = text[:left]
            end = max(cut.rfind(". "), cut.rfind(".\n"))
            out.append({"title": sec["title"], "text": cut[: end + 1] if end > 0 else cut})
        return out, True
    return out, False


# -- HTML (LaTeXML) -------------------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_SKIP_TAGS = {"script", "style", "nav", "header", "footer", "figure", "figcaption", "button", "noscript", "svg",
              "template", "head", "title", "form", "select", "textarea", "iframe", "object"}
_SKIP_CLASSES = {"ltx_bibliography", "ltx_note", "ltx_page_navbar", "ltx_TOC", "ltx_page_header", "ltx_page_footer",
                 "ltx_authors", "ltx_dates", "ltx_caption", "ltx_figure", "ltx_table", "ltx_float", "ltx_ERROR",
                 "ltx_acknowledgements", "ltx_role_footnote", "ltx_note_outer", "ltx_tag_equation",
                 "ltx_tag_note", "ltx_bibblock", "ltx_biblist", "package-alerts", "ltx_page_logo"}
_BLOCK = {"p", "div", "li", "ul", "ol", "table", "tr", "blockquote", "section", "h1", "h2", "h3", "h4", "h5", "h6",
          "dd", "dt", "dl", "pre", "br", "article"}
_LEVELS = {"ltx_section": 1, "ltx_appendix": 1, "ltx_subsection": 2, "ltx_subsubsection": 3, "ltx_paragraph": 4,
           "ltx_subparagraph": 5}
_HTML_VERSION = re.compile(r"/(?:html|abs)/(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)")


class _Section:
    def __init__(self, level: int, appendix: bool, parent: _Section | None) -> None:
        self.level = level
        self.appendix = appendix
        self.parent = parent
        self.tag = ""
        self.title = ""
        self.parts: list[str] = []
        self.out: dict[str, str] | None = None  # its entry, for levels 1 and 2

    def owner(self) -> _Section:
        s = self
        while s.level > 2 and s.parent is not None:
            s = s.parent
        return s

    def full_title(self) -> str:
        title = " ".join(self.title.split())
        tag = " ".join(self.tag.split())
        if self.level == 1:
            if self.appendix or tag.lower().startswith("appendix"):
                label = tag if tag.lower().startswith("appendix") else f"Appendix {tag}".strip()
                return f"{label}: {title}" if title else label
            return title or tag or "Untitled section"
        parent = self.parent.full_title() if self.parent is not None else ""
        own = title or tag or "Untitled"
        return f"{parent} / {own}" if parent else own


class _LatexmlParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, str]] = []  # (tag, skipping?, role)
        self.skip = 0
        self.sections: list[_Section] = []  # open sections, innermost last
        self.entries: list[_Section] = []
        self.title_of: _Section | None = None  # collecting this section's heading
        self.in_tag = 0
        self.version: str | None = None
        self.licence: str | None = None
        self.seen_document = False

    # what a start tag means
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        classes = set(a.get("class", "").split())
        self._metadata(tag, a)
        if "ltx_document" in classes:
            self.seen_document = True
        if tag in _VOID:
            if tag == "br":
                self._text("\n")
            return
        role = ""
        skipping = tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES)
        if self.title_of is not None and tag in ("p", "div", "section", "table", "ul", "ol"):
            self.title_of = None  # a heading left open (broken HTML): the text after it is the section's
        if self.skip == 0 and not skipping:
            if tag == "math":
                alt = a.get("alttext", "")
                if alt:
                    self._text(f" {alt} ")
                skipping, role = True, "math"
            elif tag == "section" and classes & _LEVELS.keys():
                level = min(_LEVELS[c] for c in classes & _LEVELS.keys())
                parent = self.sections[-1] if self.sections else None
                while parent is not None and parent.level >= level:
                    parent = parent.parent
                sec = _Section(level, "ltx_appendix" in classes or bool(parent and parent.appendix), parent)
                self.sections.append(sec)
                self.entries.append(sec)
                role = "section"
            elif "ltx_abstract" in classes and not self.sections:
                sec = _Section(1, False, None)
                sec.title = "Abstract"
                self.sections.append(sec)
                self.entries.append(sec)
                role = "abstract"
            elif "ltx_title" in classes and self.sections:
                sec = self.sections[-1]
                if sec.title == "" and self.title_of is None and "ltx_title_abstract" not in classes:
                    self.title_of = sec
                    role = "title"
                elif "ltx_title_abstract" in classes:
                    skipping = True
                else:  # a heading inside the text (a \paragraph's run-in title): text
                    role = "heading"
            elif "ltx_tag" in classes and self.title_of is not None:
                self.in_tag += 1
                role = "tag"
        if tag in _BLOCK:
            self._text("\n\n")
        self.stack.append((tag, skipping, role))
        if skipping:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not any(t == tag for t, _, _ in self.stack):
            return  # a stray end tag (broken HTML): ignored
        while self.stack:
            t, skipping, role = self.stack.pop()
            self._close(skipping, role)
            if t == tag:
                break
        if tag in _BLOCK:
            self._text("\n\n")

    def _close(self, skipping: bool, role: str) -> None:
        if skipping:
            self.skip -= 1
        if role in ("section", "abstract") and self.sections:
            self.sections.pop()
        elif role == "title":
            sec, self.title_of = self.title_of, None
            if sec is not None and sec.level > 2 and sec.title.strip():  # a run-in heading in its subsection's text
                self._text("\n\n" + " ".join(sec.title.split()).rstrip(".") + ". ")
        elif role == "tag":
            self.in_tag -= 1
        elif role == "heading":
            self._text(". ")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.title_of is not None:
            if self.in_tag:
                self.title_of.tag += data
            else:
                self.title_of.title += data
            return
        self._text(data)

    def _text(self, s: str) -> None:
        if self.skip or not self.sections or self.title_of is not None:
            return
        self.sections[-1].owner().parts.append(s)

    def _metadata(self, tag: str, a: dict[str, str]) -> None:
        if tag == "a" and "license" in a.get("rel", "").split() and a.get("href") and self.licence is None:
            self.licence = a["href"].strip()[:300]
        elif tag == "meta" and a.get("name", "").lower() in ("license", "dc.rights") and a.get("content"):
            self.licence = self.licence or a["content"].strip()[:300]
        if self.version is None:
            ref = ""
            if tag in ("base", "link") and (tag == "base" or "canonical" in a.get("rel", "").split()):
                ref = a.get("href", "")
            elif tag == "meta" and a.get("property") == "og:url":
                ref = a.get("content", "")
            m = _HTML_VERSION.search(ref)
            if m:
                self.version = m.group(1)

    def close_all(self) -> None:
        while self.stack:
            _, skipping, role = self.stack.pop()
            self._close(skipping, role)


def html_sections(html: bytes | str, *, max_chars: int = MAX_PAPER_CHARS) -> ParsedText:
    """The sections of a LaTeXML page (arXiv's ``/html/<id>``).

    Raises :class:`MalformedText` when the page has no LaTeXML sections at all
    (a page that is not a paper rendering, or bytes that are not HTML).
    """
    if isinstance(html, bytes):
        if b"\x00" in html[:4096]:
            raise MalformedText("the HTML is binary data, not a page")
        text = html.decode("utf-8", errors="replace")
    else:
        text = html
    p = _LatexmlParser()
    try:
        p.feed(text)
        p.close()
    except Exception as exc:  # html.parser is lenient; anything it still cannot take is a bad page
        raise MalformedText(f"the HTML cannot be read ({type(exc).__name__}: {exc})") from None
    p.close_all()
    sections = []
    for sec in p.entries:
        if sec.level > 2:
            continue
        body = _clean("".join(sec.parts))
        if body:
            sections.append({"title": sec.full_title(), "text": body})
    if not sections:
        what = "LaTeXML page" if p.seen_document else "page"
        raise MalformedText(f"the HTML is not a LaTeXML paper rendering (no sections with text in this {what})")
    kept, cut = bound_sections(sections, max_chars)
    head = text[:30_000]  # arXiv's page header: "License: CC BY 4.0", "arXiv:2503.06749v2 [cs.CV] 9 Mar 2025"
    version = p.version
    if version is None:
        m = _WATERMARK.search(head)
        version = m.group(1) if m else None
    licence = p.licence
    if licence is None:
        m = _LICENCE_LINE.search(head)
        licence = " ".join(m.group(1).split()) if m else None
    return ParsedText(kept, version, licence, cut)


_WATERMARK = re.compile(r"arXiv:(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)\s*\[")
_LICENCE_LINE = re.compile(r">\s*License:\s*([^<>\n]{2,100}?)\s*<")


# -- e-prints (LaTeX source bundles) -------------------------------------------------------------


@dataclass
class Eprint:
    """An e-print opened in memory: ``kind`` is ``tex`` (with ``files``), ``pdf`` or ``other``."""

    kind: str
    files: dict[str, str] = field(default_factory=dict)  # path in the bundle -> text (.tex, .sty, .cls ...)


def _gunzip(data: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    buf = data
    try:
        while buf:
            out += d.decompress(buf, limit + 1 - len(out))
            if len(out) > limit:
                raise MalformedText(
                    f"the source bundle unpacks to more than {limit:,} bytes (a gzip bomb?); not read")
            buf = d.unconsumed_tail
            if d.eof:
                break
    except zlib.error as exc:
        raise MalformedText(f"the source bundle is not valid gzip ({exc})") from None
    if not d.eof:
        raise MalformedText("the source bundle is not valid gzip (it ends before its end)")
    return bytes(out)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_TEXT_SUFFIXES = (".tex", ".ltx", ".sty", ".cls", ".def", ".latex")


def _safe_name(name: str) -> str:
    """The member's path inside the bundle, or MalformedText for a name that points outside it."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw) or ".." in raw.split("/") or "\x00" in raw:
        shown = name[:80].encode("unicode_escape").decode("ascii")
        raise MalformedText(f"the source bundle holds a member named {shown!r} that points outside it; not read")
    return posixpath.normpath(raw).lstrip("./") if raw not in (".", "./") else ""


def read_eprint(body: bytes, *, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> Eprint:
    """Open an e-print in memory: a (gzipped) tar of sources, one gzipped ``.tex``, or a PDF.

    Never writes anything. Raises :class:`MalformedText` for a gzip bomb (more
    than ``max_bytes`` unpacked), a member whose name leaves the bundle
    (``../../x``, ``/etc/x``), or a bundle that is neither of the known kinds.
    """
    if body[:5] == b"%PDF-":
        return Eprint("pdf")
    data = _gunzip(body, max_bytes) if body[:2] == b"\x1f\x8b" else body
    if data[:5] == b"%PDF-":
        return Eprint("pdf")
    if len(data) > 262 and data[257:262] == b"ustar" or _looks_like_tar(data):
        return Eprint("tex", _tar_files(data))
    text = _decode(data)
    if re.search(r"\\(documentclass|documentstyle|begin\{document\}|section)", text):
        return Eprint("tex", {"main.tex": text})
    return Eprint("other")


def _looks_like_tar(data: bytes) -> bool:
    if len(data) < 512 or data[:1] == b"\\":
        return False
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
            return tf.next() is not None
    except (tarfile.TarError, ValueError, EOFError):
        return False


def _tar_files(data: bytes) -> dict[str, str]:
    files: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tf:
            for n, member in enumerate(tf):
                if n >= MAX_MEMBERS:
                    raise MalformedText(f"the source bundle holds more than {MAX_MEMBERS:,} files; not read")
                name = _safe_name(member.name)
                if member.issym() or member.islnk():
                    _safe_name(member.linkname if not member.linkname.startswith("/") else "/x")
                    continue  # never followed
                if not member.isfile() or not name.lower().endswith(_TEXT_SUFFIXES):
                    continue
                fh = tf.extractfile(member)  # a file object over the in-memory archive; nothing touches disk
                if fh is None:
                    continue
                files[name] = _decode(fh.read())
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if not files:
            raise MalformedText(f"the source bundle is not a readable tar archive ({exc})") from None
    return files


# -- LaTeX -> sections ---------------------------------------------------------------------------

_COMMENT = re.compile(r"(?<!\\)%[^\n]*")
_PROTECTED = {"section", "subsection", "subsubsection", "paragraph", "appendix", "begin", "end", "input", "include",
              "caption", "footnote", "cite", "label", "ref", "item", "documentclass", "def", "newcommand",
              "renewcommand", "bibliography", "title", "author", "maketitle", "text", "textbf", "emph"}
_DROP_ENVS = ("figure", "table", "wrapfigure", "wraptable", "thebibliography", "verbatim", "lstlisting", "minted",
              "tikzpicture", "comment", "filecontents", "tabular", "tabularx", "longtable", "sidewaystable",
              "subfigure", "acks", "acknowledgments", "acknowledgements", "CJK")
_DROP_WITH_ARG = ("footnote", "footnotetext", "caption", "captionof", "thanks", "label", "bibliography",
                  "bibliographystyle", "author", "title", "affiliation", "affil", "institute", "email", "date",
                  "icmlauthor", "icmlaffiliation", "icmlcorrespondingauthor", "keywords", "vspace", "hspace",
                  "includegraphics", "usepackage", "setlength", "addtolength", "newcommand", "renewcommand",
                  "providecommand", "definecolor", "color", "pagestyle", "thispagestyle", "input", "include",
                  "newtheorem", "hypersetup", "url", "cite", "citep", "citet", "citealp", "citeauthor", "citeyear",
                  "nocite", "ref", "eqref", "autoref", "cref", "Cref", "pageref", "vskip", "crefname")
_SECTIONING = re.compile(r"\\(section|subsection|subsubsection|paragraph|subparagraph)\*?\s*(?:\[[^\]]*\])?\s*\{")
_APPENDIX = re.compile(r"\\appendix(?![A-Za-z])|\\begin\{appendices\}|\\end\{appendices\}")


def _strip_comments(text: str) -> str:
    return _COMMENT.sub("", text)


def _braced(s: str, i: int) -> tuple[str, int] | None:
    """The group starting at ``s[i] == '{'``: (content, index after its ``}``); None if unbalanced."""
    if i >= len(s) or s[i] != "{":
        return None
    depth = 0
    for j in range(i, min(len(s), i + 200_000)):
        c = s[j]
        if c == "\\":
            continue
        if c == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif c == "}" and s[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return s[i + 1: j], j + 1
    return None


def _main_file(files: Mapping[str, str]) -> str:
    cands = []
    for name, text in files.items():
        if not name.lower().endswith((".tex", ".ltx", ".latex")):
            continue
        body = _strip_comments(text)
        if re.search(r"\\document(class|style)\b", body):
            score = (
                "\\begin{document}" in body,
                posixpath.splitext(posixpath.basename(name))[0].lower() in ("main", "ms", "paper", "arxiv"),
                len(body),
            )
            cands.append((score, name))
    if not cands:
        raise MalformedText("the source bundle has no main .tex file (none with \\documentclass)")
    return max(cands)[1]


_INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{([^{}]*)\}|\\input\s+([^\s{}\\%]+)")


def _expand_inputs(files: Mapping[str, str], main: str) -> str:
    root = posixpath.dirname(main)
    total = [0]

    def resolve(name: str, here: str) -> str | None:
        name = name.strip().strip('"')
        for base in (root, here, ""):
            for cand in (name, name + ".tex"):
                p = posixpath.normpath(posixpath.join(base, cand)).lstrip("./")
                if p in files and p.lower().endswith((".tex", ".ltx", ".latex", ".tikz", ".sty")):
                    return p
                if p in files and "." in posixpath.basename(cand):
                    return p
        return None

    def expand(path: str, stack: tuple[str, ...]) -> str:
        text = _strip_comments(files[path])
        total[0] += len(text)
        here = posixpath.dirname(path)

        def sub(m: re.Match[str]) -> str:
            target = resolve(m.group(1) or m.group(2) or "", here)
            if target is None or target in stack or len(stack) >= MAX_INPUT_DEPTH or total[0] > MAX_TEX_CHARS:
                return " "
            return "\n" + expand(target, stack + (target,)) + "\n"

        return _INPUT.sub(sub, text)

    return expand(main, (main,))


_DEFS = re.compile(
    r"\\(?:newcommand|renewcommand|providecommand|DeclareRobustCommand)\*?\s*(?:\{\s*\\([A-Za-z@]+)\s*\}|\\([A-Za-z@]+))"
    r"|\\def\s*\\([A-Za-z@]+)"
)


def _macros(text: str) -> tuple[dict[str, str], list[tuple[int, int]]]:
    """Macros without arguments, and the spans of every definition (to cut them out)."""
    found: dict[str, str] = {}
    spans = []
    for m in _DEFS.finditer(text):
        name = m.group(1) or m.group(2) or m.group(3)
        j = m.end()
        while j < len(text) and text[j] in " \t\n":
            j += 1
        has_args = j < len(text) and text[j] in "[#"
        while j < len(text) and text[j] != "{" and j - m.end() < 40:  # skip [n][default] or #1
            j += 1
        group = _braced(text, j)
        if group is None:
            continue
        body, end = group
        spans.append((m.start(), end))
        if has_args or "#" in body or name in _PROTECTED or len(found) >= 5000:
            continue
        found[name] = body.replace("\\xspace", "").strip()
    return found, spans


def _expand_macros(text: str, macros: Mapping[str, str]) -> str:
    if not macros:
        return text
    names = sorted(macros, key=len, reverse=True)
    pattern = re.compile(r"\\(" + "|".join(re.escape(n) for n in names) + r")(?![A-Za-z@])(\s*\{\})?")
    limit = 2 * len(text) + 1_000_000
    for _ in range(5):  # macros that use macros; bounded
        new = pattern.sub(lambda m: macros[m.group(1)], text)
        if new == text or len(new) > limit:
            break
        text = new
    return text


def _drop_command_with_arg(text: str, names: Iterable[str]) -> str:
    pat = re.compile(r"\\(?:" + "|".join(re.escape(n) for n in names) + r")\*?(?![A-Za-z@])\s*(?:\[[^\]]*\]\s*)*")
    out = []
    i = 0
    for m in pat.finditer(text):
        if m.start() < i:
            continue
        out.append(text[i: m.start()])
        group = _braced(text, m.end())
        i = group[1] if group else m.end()
    out.append(text[i:])
    return "".join(out)


_MATH = re.compile(
    r"\$\$.*?\$\$|(?<!\\)\$.*?(?<!\\)\$|\\\(.*?\\\)|\\\[.*?\\\]"
    r"|\\begin\{(equation|align|gather|multline|eqnarray|displaymath|math)(\*?)\}.*?\\end\{\1\2\}",
    re.S,
)
_MATH_ENV = re.compile(r"^\\begin\{[a-z]+\*?\}|\\end\{[a-z]+\*?\}$")


def _latex_to_text(s: str) -> str:
    """Plain text of LaTeX; math is kept as its LaTeX source (as LaTeXML's alt text keeps it)."""
    out = []
    pos = 0
    for m in _MATH.finditer(s):
        out.append(_prose_to_text(s[pos: m.start()]))
        math = _MATH_ENV.sub("", m.group(0).strip("$")).strip()
        math = re.sub(r"^\\[(\[]|\\[)\]]$", "", math)
        math = re.sub(r"\\(?:label|tag|nonumber|notag)\b(\{[^{}]*\})?", "", math)
        out.append(" " + " ".join(math.split()) + " ")
        pos = m.end()
    out.append(_prose_to_text(s[pos:]))
    return "".join(out)


def _prose_to_text(s: str) -> str:
    s = _drop_command_with_arg(s, _DROP_WITH_ARG)
    s = re.sub(r"\\(?:href)\s*\{[^{}]*\}", "", s)
    s = re.sub(r"\\item\b\s*(?:\[[^\]]*\])?", "\n- ", s)
    s = re.sub(r"\\(?:begin|end)\s*\{[^{}]*\}(?:\[[^\]]*\])?", "\n", s)
    s = s.replace("\\\\", "\n").replace("~", " ")
    s = re.sub(r"\\[()\[\]]", " ", s)
    s = re.sub(r"\\([%&_#$])", r"\1", s)
    s = re.sub(r"\\[,;:! ]", " ", s)
    s = re.sub(r"\\(?:textbf|textit|emph|texttt|textsc|textrm|textsf|underline|mbox|text|mathrm|mathbf|mathit|"
               r"mathcal|mathbb|operatorname|textnormal|uline|hl|ensuremath)\b", "", s)
    s = re.sub(r"\\[A-Za-z@]+\*?", lambda m: "" if len(m.group(0)) > 1 else m.group(0), s)
    s = s.replace("{", "").replace("}", "")
    return s


def _drop_envs(body: str) -> str:
    for env in _DROP_ENVS:
        body = re.sub(r"\\begin\{" + re.escape(env) + r"\*?\}.*?\\end\{" + re.escape(env) + r"\*?\}", "\n", body,
                      flags=re.S)
    return body


def latex_sections(files: Mapping[str, str], *, max_chars: int = MAX_PAPER_CHARS) -> ParsedText:
    """The sections of a LaTeX source bundle (``path -> text``, as :func:`read_eprint` gives).

    Raises :class:`MalformedText` when there is no main file or no section with text.
    """
    main = _main_file(files)
    tex = _expand_inputs(files, main)
    macros: dict[str, str] = {}
    for name, text in files.items():  # the bundle's own packages (\usepackage{macros}) define macros too
        if name.lower().endswith((".sty", ".def")):
            macros.update(_macros(_strip_comments(text))[0])
    found, spans = _macros(tex)
    macros.update(found)
    for a, b in reversed(spans):
        tex = tex[:a] + tex[b:]
    begin = tex.find("\\begin{document}")
    body = tex[begin + len("\\begin{document}"):] if begin >= 0 else tex
    end = body.find("\\end{document}")
    if end >= 0:
        body = body[:end]
    body = _expand_macros(body, macros)
    body = _drop_envs(body)

    sections: list[dict[str, str]] = []
    abstract = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", body, flags=re.S)
    if abstract:
        text = _clean(_latex_to_text(abstract.group(1)))
        if text:
            sections.append({"title": "Abstract", "text": text})
        body = body[: abstract.start()] + body[abstract.end():]

    events: list[tuple[int, int, str, str]] = []  # (start, end, kind, title)
    for m in _SECTIONING.finditer(body):
        group = _braced(body, m.end() - 1)
        if group is None:
            continue
        events.append((m.start(), group[1], m.group(1), group[0]))
    for m in _APPENDIX.finditer(body):
        events.append((m.start(), m.end(), "appendix", ""))
    events.sort()

    appendix = False
    letter = 0
    current: dict[str, Any] | None = None
    parent_title = ""
    chunks: list[tuple[dict[str, Any], str]] = []
    pos = 0

    def flush(upto: int) -> None:
        if current is not None:
            chunks.append((current, body[pos:upto]))

    for start, end, kind, raw_title in events:
        if start < pos:
            continue
        title = " ".join(_latex_to_text(raw_title).split())
        if kind == "appendix":
            flush(start)
            appendix = True
            pos = end
            continue
        if kind in ("subsubsection", "paragraph", "subparagraph"):
            if current is not None:  # stays in its subsection's text, as a run-in heading
                flush(start)
                chunks.append((current, f"\n\n{title}. "))
            pos = end
            continue
        flush(start)
        if kind == "section":
            if appendix:
                label = f"Appendix {chr(ord('A') + letter % 26)}"
                letter += 1
                parent_title = f"{label}: {title}" if title else label
            else:
                parent_title = title or "Untitled section"
            current = {"title": parent_title}
        else:
            current = {"title": f"{parent_title} / {title}" if parent_title else title}
        pos = end
    flush(len(body))

    order: list[dict[str, Any]] = []
    texts: dict[int, list[str]] = {}
    for sec, raw in chunks:
        if id(sec) not in texts:
            texts[id(sec)] = []
            order.append(sec)
        texts[id(sec)].append(raw)
    for sec in order:
        text = _clean(_latex_to_text("".join(texts[id(sec)])))
        if text:
            sections.append({"title": sec["title"], "text": text})
    if not sections:
        raise MalformedText("the LaTeX source has no section with text")
    kept, cut = bound_sections(sections, max_chars)
    return ParsedText(kept, None, None, cut)


# -- Semantic Scholar snippets -------------------------------------------------------------------


def snippet_sections(data: Iterable[Mapping[str, Any]], *, max_chars: int = MAX_PAPER_CHARS) -> ParsedText:
    """Snippets of one paper (``/snippet/search`` ``data`` items) grouped by section, in the paper's order.

    Title snippets are left out; abstract snippets make an ``Abstract`` section;
    body snippets without a section name go under ``Body``. Overlapping
    snippets are kept once.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    first: dict[str, int] = {}
    licence = None
    for item in data:
        snip = item.get("snippet") if isinstance(item, Mapping) else None
        if not isinstance(snip, Mapping):
            continue
        text = snip.get("text")
        kind = snip.get("snippetKind")
        if not isinstance(text, str) or not text.strip() or kind == "title":
            continue
        title = "Abstract" if kind == "abstract" else (snip.get("section") or "Body")
        title = " ".join(str(title).split())[:300] or "Body"
        offset = snip.get("snippetOffset") or {}
        start = offset.get("start") if isinstance(offset, Mapping) else None
        start = start if isinstance(start, int) else 10**12
        if kind == "abstract":
            start = -1
        groups.setdefault(title, []).append((start, text))
        first[title] = min(first.get(title, start), start)
        paper = item.get("paper")
        info = paper.get("openAccessInfo") if isinstance(paper, Mapping) else None
        if licence is None and isinstance(info, Mapping) and isinstance(info.get("license"), str):
            licence = info["license"][:100]
    sections = []
    for title in sorted(groups, key=lambda t: (first[t], t)):
        seen: set[int] = set()
        parts = []
        for start, text in sorted(groups[title], key=lambda x: x[0]):
            if start in seen and start != 10**12:
                continue
            seen.add(start)
            if text.strip() not in parts:
                parts.append(text.strip())
        body = _clean("\n\n".join(parts))
        if body:
            sections.append({"title": title, "text": body})
    kept, cut = bound_sections(sections, max_chars)
    return ParsedText(kept, None, licence, cut)
