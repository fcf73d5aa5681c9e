"""What is in the target: the file inventory, Python files, manifests, IaC frameworks.

Discovery never follows symbolic links (a link out of the target or a link
loop is recorded as skipped), honours `.gitignore` when the target is in a git
work tree (through `git ls-files`), and always skips version-control folders,
virtual environments, `node_modules` and vendored folders.
"""

from __future__ import annotations

import bisect
import fnmatch
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from pipeline import manifests
from pipeline.model import SkippedPath as Skipped
from pipeline.runner import Runner
from pipeline.safegit import Git

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".eggs",
        ".nox",
        "node_modules",
        "vendor",
        "vendored",
        "_vendor",
        "third_party",
        "site-packages",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
    }
)
EXCLUDED_BY = "excluded by"
SNIFF_BYTES = 8192
SNIFF_FRAMEWORK = 65536
_BLANKS = re.compile(rb"[ \t]{17,}")
LONG_LINE = 1000
MAX_RULE_LOOKUPS = 500
NEARLY_ALL = 0.9
"""Ignore rules that leave out this share of the target's files make the run NOT_ASSESSED."""
MIN_IGNORED = 10


@dataclass(frozen=True)
class FileInfo:
    path: str
    """Relative to the target, with forward slashes."""
    size: int
    binary: bool = False
    utf8: bool = True
    """False for a text file that is not valid UTF-8."""
    max_line: int = 0
    """Length of the longest line (only measured for files within the size limit)."""
    blank_run: int = 0
    """Longest run of spaces and tabs (some scanners' regular expressions are cubic in it)."""
    oversized: bool = False


@dataclass(frozen=True)
class Inventory:
    root: Path
    files: tuple[FileInfo, ...]
    skipped: tuple[Skipped, ...] = ()
    git: bool = False
    iac: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """checkov framework name → files of that framework."""

    @property
    def python_files(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files if f.path.endswith((".py", ".pyw")))

    @property
    def manifests(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files if manifests.manifest_kind(f.path))

    def text_files(self) -> tuple[FileInfo, ...]:
        return tuple(f for f in self.files if not f.binary)


def matching_pattern(path: str, patterns: tuple[str, ...]) -> str | None:
    """The first pattern that matches the path or one of its parent folders.

    Patterns are fnmatch globs on the target-relative path, where `*` also
    crosses `/`: `docs/*`, `*.min.js`, `tests/fixtures`.
    """
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pat in patterns:
        if any(fnmatch.fnmatchcase(p, pat.rstrip("/")) for p in prefixes):
            return pat
    return None


def excluded(path: str, patterns: tuple[str, ...]) -> bool:
    return matching_pattern(path, patterns) is not None


def _git_files(root: Path, runner: Runner) -> tuple[list[str], list[Skipped]] | None:
    """Tracked and untracked files git does not ignore; and what `.gitignore` leaves out."""
    git = Git(root, runner, os.environ)
    probe = git.run("rev-parse", "--is-inside-work-tree", timeout=30)
    if probe.returncode != 0 or probe.stdout.strip() != "true":
        return None
    listing = git.run("ls-files", "-z", "--cached", "--others", "--exclude-standard", timeout=120)
    if listing.returncode != 0:
        return None
    unlisted = [
        Skipped(
            m[1].rstrip("/") or ".", f"cannot list folder: {m[2]}", not_assessed=True, category="unreadable"
        )
        for m in _UNLISTED.finditer(listing.stderr)
    ]
    return sorted({p for p in listing.stdout.split("\0") if p}), unlisted + _git_ignored(git)


_RULE = re.compile(r"^(.*):(\d+):(.*)$")
_UNLISTED = re.compile(r"(?m)^warning: could not open directory '(.*)': (.*)$")
"""git lists nothing under a folder it cannot open, and says so only on stderr."""


def _from_target(source: str, top: str | None, root: Path) -> str:
    """An ignore file git names relative to the work tree's top, as seen from the target:
    a parent's `.gitignore` reads `../.gitignore`, not `.gitignore`."""
    if not top or os.path.isabs(source) or source.startswith("~"):
        return source
    return Path(os.path.relpath(Path(top) / source, root)).as_posix()


def _git_ignored(git: Git) -> list[Skipped]:
    """Untracked files `.gitignore` (the target's, a parent work tree's, `info/exclude`) hides.

    An ignored folder is listed once, with the number of files under it; each entry
    names the rule that ignores it, e.g. `../.gitignore:1: *` for a parent's ignore file.
    """
    ignored = ("ls-files", "-z", "--others", "--ignored", "--exclude-standard")
    entries_run = git.run(*ignored, "--directory", timeout=120)
    files_run = git.run(*ignored, timeout=120)
    if entries_run.returncode != 0 or files_run.returncode != 0:
        return []
    entries = sorted({p for p in entries_run.stdout.split("\0") if p})
    files = sorted(p for p in files_run.stdout.split("\0") if p)
    if "./" in entries:  # the whole target is ignored (a parent's `*`): list its top level
        entries = sorted({p.split("/", 1)[0] + ("/" if "/" in p else "") for p in files})
    rules: dict[str, str] = {}
    top = git.out("rev-parse", "--show-toplevel")
    if entries:
        check = git.run("check-ignore", "-v", "--no-index", "--", *entries[:MAX_RULE_LOOKUPS], timeout=60)
        for line in check.stdout.splitlines():
            meta, _, path = line.partition("\t")
            rule = _RULE.match(meta)
            if rule:
                rules[path] = f"{_from_target(rule[1], top, git.root)}:{rule[2]}: {rule[3]}"
    out: list[Skipped] = []
    for entry in entries:
        folder = entry.endswith("/")
        path = entry.rstrip("/")
        if folder:
            lo = bisect.bisect_left(files, entry)
            hi = bisect.bisect_left(files, entry[:-1] + "0")  # "0" sorts right after "/"
            count = hi - lo
        else:
            count = 1
        named = rules.get(entry) or rules.get(path)
        reason = "ignored by .gitignore" + (f" ({named})" if named else "")
        if folder and is_virtualenv(git.root / path):
            out.append(Skipped(path, f"{VIRTUALENV_REASON}, {reason}", category="virtualenv", files=count))
        else:
            out.append(Skipped(path, reason, category="gitignored", files=count))
    return out


_FOLDER_REASONS = {
    **dict.fromkeys((".git", ".hg", ".svn"), "version-control folder"),
    **dict.fromkeys(("node_modules", "site-packages"), "installed dependencies"),
    **dict.fromkeys(("vendor", "vendored", "_vendor", "third_party"), "vendored third-party code"),
    **dict.fromkeys((".venv", "venv", ".tox", ".nox", ".eggs"), "environment folder of a Python tool"),
    **dict.fromkeys(("__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"), "cache folder"),
    ".terraform": "Terraform's downloaded modules and providers",
}
VIRTUALENV_REASON = "virtual environment (pyvenv.cfg and an interpreter)"


def folder_reason(name: str) -> str:
    """Why a folder of SKIP_DIRS is not scanned, as the evidence says it."""
    return f"{_FOLDER_REASONS.get(name, 'skipped folder')} ({name}/ is never scanned)"


def _count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder, followlinks=False))


def _walk(root: Path) -> tuple[list[str], list[Skipped]]:
    paths: list[str] = []
    skipped: list[Skipped] = []

    def onerror(err: OSError) -> None:
        rel = os.path.relpath(err.filename or root, root) if err.filename else "."
        skipped.append(
            Skipped(
                Path(rel).as_posix(),
                f"cannot list folder: {err.strerror}",
                not_assessed=True,
                category="unreadable",
            )
        )

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        rel_dir = Path(os.path.relpath(dirpath, root))
        keep = []
        for d in sorted(dirnames):
            full = Path(dirpath) / d
            rel = (rel_dir / d).as_posix().removeprefix("./")
            try:
                link = full.is_symlink()
            except OSError as exc:  # e.g. a path longer than the system allows (ENAMETOOLONG)
                skipped.append(
                    Skipped(
                        rel, f"cannot open folder: {exc.strerror}", not_assessed=True, category="unreadable"
                    )
                )
                continue
            if link:
                skipped.append(Skipped(rel, "symbolic link (not followed)", category="link"))
            elif d in SKIP_DIRS:
                skipped.append(
                    Skipped(rel, folder_reason(d), category="skipped-folder", files=_count_files(full))
                )
            elif is_virtualenv(full):
                skipped.append(
                    Skipped(rel, VIRTUALENV_REASON, category="virtualenv", files=_count_files(full))
                )
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            paths.append((rel_dir / name).as_posix().removeprefix("./"))
    return paths, skipped


def is_virtualenv(folder: Path) -> bool:
    """A real virtual environment: `pyvenv.cfg` naming a home, and an interpreter layout.

    An empty `pyvenv.cfg` dropped into `app/` must not hide `app/` from every scanner.
    """
    try:
        cfg = folder / "pyvenv.cfg"
        if not cfg.is_file() or cfg.is_symlink():
            return False
        if not re.search(r"(?m)^\s*home\s*=", cfg.read_text(encoding="utf-8", errors="replace")[:4096]):
            return False
        return (
            (folder / "bin" / "python").exists()
            or (folder / "Scripts" / "python.exe").exists()
            or any(folder.glob("lib/python*/site-packages"))
        )
    except OSError:  # unreadable, or a path too long: not a virtualenv, the files are listed
        return False


def _skipped_folder(path: str) -> str | None:
    """The outermost folder of SKIP_DIRS the path is in, if any."""
    parts = PurePosixPath(path).parts[:-1]
    for i, part in enumerate(parts):
        if part in SKIP_DIRS:
            return "/".join(parts[: i + 1])
    return None


def _grouped(paths: list[str], reason: str, category: str) -> list[Skipped]:
    counts: dict[str, int] = {}
    for p in paths:
        counts[p] = counts.get(p, 0) + 1
    return [
        Skipped(folder, reason or folder_reason(PurePosixPath(folder).name), category=category, files=n)
        for folder, n in sorted(counts.items())
    ]


def _inspect(root: Path, rel: str, max_size: int) -> tuple[FileInfo, bytes] | Skipped:
    """Size, binary or text, encoding and line shape; with the file's first bytes."""
    full = root / rel
    try:
        st = full.lstat()
    except OSError as exc:
        return Skipped(rel, f"cannot stat: {exc.strerror}", not_assessed=True, category="unreadable")
    if stat.S_ISLNK(st.st_mode):
        return Skipped(rel, "symbolic link (not followed)", category="link")
    if stat.S_ISDIR(st.st_mode):  # git lists a submodule as one path
        return Skipped(rel, "git submodule: a separate repository, scan it on its own", category="submodule")
    if not stat.S_ISREG(st.st_mode):
        return Skipped(rel, "not a regular file (a device, socket or pipe)", category="special")
    try:
        with open(full, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if looks_binary(head):
                return Skipped(rel, "binary content: no scanner reads it", category="binary")
            if st.st_size > max_size:
                return FileInfo(rel, st.st_size, oversized=True), head
            data = head + fh.read()
    except OSError as exc:
        return Skipped(rel, f"cannot read: {exc.strerror}", not_assessed=True, category="unreadable")
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    max_line = max((len(line) for line in data.splitlines()), default=0)
    blank_run = max((len(m) for m in _BLANKS.findall(data)), default=0)
    info = FileInfo(rel, st.st_size, utf8=utf8, max_line=max_line, blank_run=blank_run)
    return info, data[:SNIFF_FRAMEWORK]


_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def _utf8(head: bytes) -> bool:
    """Valid UTF-8, allowing a character cut at the end of the sniffed bytes."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(head) - 3
    return True


def looks_binary(head: bytes) -> bool:
    """Binary by content, in the first 8 KiB: a NUL in bytes that are not UTF-8 (images,
    archives, compiled code), 4+ NULs making over 1 %, or over 10 % control bytes.

    git calls any NUL binary; one NUL at the top of an otherwise UTF-8 `.env` file
    (`printf '\\0\\nAWS_ACCESS_KEY_ID=…'`) would then hide the key from the secrets scan.
    """
    if not head:
        return False
    nul = head.count(0)
    if nul and not _utf8(head):
        return True
    if nul >= 4 and nul * 100 > len(head):
        return True
    control = len(head) - len(head.translate(None, _CONTROL))  # NULs included
    return control * 10 > len(head)


_CFN = re.compile(rb"AWSTemplateFormatVersion|\bType\"?\s*:\s*\"?AWS::")
_K8S_API = re.compile(rb"(?m)^\s*\"?apiVersion\"?\s*:")
_K8S_KIND = re.compile(rb"(?m)^\s*\"?kind\"?\s*:")
_OPENAPI = re.compile(rb"(?m)^\s*\"?(openapi|swagger)\"?\s*:")
_ARM = re.compile(rb"deploymentTemplate\.json")


def _frameworks_of(info: FileInfo, head: bytes) -> list[str]:
    path = PurePosixPath(info.path)
    name = path.name
    lower = name.lower()
    found: list[str] = []
    if lower.endswith(".tf"):
        return ["terraform"]
    if lower.endswith(".tf.json"):
        return ["terraform_json"]
    if lower.endswith(".bicep"):
        return ["bicep"]
    if lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        return ["dockerfile"]
    parts = path.parts
    in_workflows = len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows"
    if in_workflows and lower.endswith((".yml", ".yaml")):
        return ["github_actions"]
    if lower in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return ["gitlab_ci"]
    if lower == "bitbucket-pipelines.yml":
        return ["bitbucket_pipelines"]
    if lower in ("azure-pipelines.yml", "azure-pipelines.yaml"):
        return ["azure_pipelines"]
    if len(parts) >= 2 and parts[-2] == ".circleci" and lower in ("config.yml", "config.yaml"):
        return ["circleci_pipelines"]
    if lower in ("serverless.yml", "serverless.yaml"):
        return ["serverless"]
    if info.binary or not lower.endswith((".yml", ".yaml", ".json", ".template")):
        return found
    if _CFN.search(head):
        found.append("cloudformation")
    elif _ARM.search(head):
        found.append("arm")
    elif _K8S_API.search(head) and _K8S_KIND.search(head):
        found.append("kubernetes")
    elif _OPENAPI.search(head):
        found.append("openapi")
    return found


def discover(
    root: Path,
    runner: Runner,
    exclude: tuple[str, ...] = (),
    max_file_size: int = 2 * 1024 * 1024,
    skip_paths: tuple[Path, ...] = (),
    only: tuple[str, ...] | None = None,
    exclude_source: str = "configuration",
) -> Inventory:
    """Inventory the target. `skip_paths` are absolute paths to leave out (our own
    output folder, baseline and waivers files: full of hex fingerprints);
    `only` restricts it to the given target-relative files (those that exist)."""
    root = root.resolve()
    skipped: list[Skipped] = []
    if only is not None:
        listed: list[str] | None = sorted(p for p in only if (root / p).exists() or (root / p).is_symlink())
    else:
        from_git = _git_files(root, runner)
        listed = None if from_git is None else from_git[0]
        ignored = [] if from_git is None else from_git[1]
    if listed is None:
        rels, walk_skipped = _walk(root)
        skipped.extend(walk_skipped)
    else:
        # Virtual environments under other names: a marker file and a real interpreter layout.
        venvs = tuple(
            str(PurePosixPath(p).parent)
            for p in listed
            if PurePosixPath(p).name == "pyvenv.cfg" and is_virtualenv(root / PurePosixPath(p).parent)
        )
        in_venv = [next(v for v in venvs if p.startswith(v + "/")) for p in listed if _under(p, venvs)]
        skipped.extend(_grouped(in_venv, VIRTUALENV_REASON, "virtualenv"))
        rels = [p for p in listed if not _under(p, venvs)]
        in_skip_dir = [d for d in map(_skipped_folder, rels) if d is not None]
        skipped.extend(_grouped(in_skip_dir, "", "skipped-folder"))
        rels = [p for p in rels if _skipped_folder(p) is None]
    own = []
    for d in skip_paths:
        try:
            own.append(d.resolve().relative_to(root).as_posix())
        except ValueError:
            continue
    files: list[FileInfo] = []
    iac: dict[str, list[str]] = {}
    for rel in rels:
        if excluded(rel, tuple(own)):
            skipped.append(
                Skipped(rel, "the pipeline's own file (evidence, waivers or baseline)", category="own-file")
            )
            continue
        pattern = matching_pattern(rel, exclude)
        if pattern is not None:
            skipped.append(
                Skipped(rel, f"{EXCLUDED_BY} {exclude_source} (pattern {pattern!r})", category="excluded")
            )
            continue
        inspected = _inspect(root, rel, max_file_size)
        if isinstance(inspected, Skipped):
            skipped.append(inspected)
            continue
        info, head = inspected
        files.append(info)
        for fw in _frameworks_of(info, head):
            iac.setdefault(fw, []).append(info.path)
    _templated(files, iac)
    if only is None:
        ignored = [i for i in ignored if not excluded(i.path, tuple(own))]
        skipped.extend(ignored)
        problem = scope_problem(len(files), ignored, skipped)
        if problem:
            skipped.append(Skipped(".", problem, not_assessed=True, category="scope", files=0))
    return Inventory(
        root=root,
        files=tuple(files),
        skipped=tuple(skipped),
        git=only is None and listed is not None,
        iac=MappingProxyType({k: tuple(v) for k, v in sorted(iac.items())}),
    )


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _templated(files: list[FileInfo], iac: dict[str, list[str]]) -> None:
    """Helm charts and kustomizations are their own frameworks (rendered, then scanned):
    a chart's templates are not Kubernetes manifests checkov can read as they are."""
    charts = tuple(
        str(PurePosixPath(f.path).parent) for f in files if PurePosixPath(f.path).name == "Chart.yaml"
    )
    helm: list[str] = []
    kustomize: list[str] = []
    for f in files:
        path = PurePosixPath(f.path)
        if path.name in KUSTOMIZATION_NAMES:
            kustomize.append(f.path)
        elif any(f.path == f"{c}/Chart.yaml" or _in_chart(f.path, c) for c in charts):
            helm.append(f.path)
    moved = set(helm) | set(kustomize)
    for fw in list(iac):
        iac[fw] = [p for p in iac[fw] if p not in moved]
        if not iac[fw]:
            del iac[fw]
    if helm:
        iac["helm"] = helm
    if kustomize:
        iac["kustomize"] = kustomize


def _in_chart(path: str, chart: str) -> bool:
    """Under the chart's templates/ or charts/ (subcharts), where files are templates."""
    prefix = "" if chart == "." else chart + "/"
    return path.startswith((prefix + "templates/", prefix + "charts/"))


def _under(path: str, folders: tuple[str, ...]) -> bool:
    return any(path.startswith(f + "/") for f in folders)


def scope_problem(files: int, ignored: list[Skipped], skipped: list[Skipped]) -> str | None:
    """Why a whole-target inventory cannot stand for the target, if it cannot.

    0 files to scan is never a pass (an empty checkout, a parent work tree whose
    `.gitignore` is `*`, every file excluded); nor is an inventory where ignore rules
    left out nearly everything (NEARLY_ALL of the files, outside the folders that are
    never scanned anyway).
    """
    if files == 0:
        left_out = sum(s.files for s in skipped)
        why = f" ({left_out} left out: see the skipped paths)" if left_out else ""
        return f"the inventory holds no file to scan{why}: nothing was assessed"
    hidden = sum(
        s.files for s in ignored if s.category == "gitignored" and _skipped_folder(s.path + "/x") is None
    )
    if hidden >= MIN_IGNORED and hidden >= NEARLY_ALL * (hidden + files):
        share = 100 * hidden // (hidden + files)
        return (
            f"ignore rules left out {hidden} of {hidden + files} files ({share} %): "
            "scan a clean checkout, or the scan stands for almost nothing"
        )
    return None
