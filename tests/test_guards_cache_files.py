"""The build cache and the file helpers in-process: what makes an entry reusable, what makes it
stale, the project lock, and writes that are whole or absent.

Fast unit tests so that mutation testing (tests/mutation/run.py) runs them for every mutant; the
incremental-build tests hold the same guards through whole builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from underlag.engine.cache import CACHE_DIR, FORMAT_VERSION, INDEX, Cache, digest, file_hash
from underlag.engine.errors import InputError, UnderlagError
from underlag.engine.files import LOCK_FILE, project_lock, write_if_changed
from underlag.engine.messages import text

# --- digest and file_hash ---------------------------------------------------------------------


def test_digest_is_a_sha256_that_depends_on_every_part_and_their_boundaries():
    key = digest("stage", {"a": 1}, b"bytes")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == digest("stage", {"a": 1}, b"bytes")
    assert len({key, digest("stage", {"a": 2}, b"bytes"), digest("stage", {"a": 1}, b"other"),
                digest("stage", {"a": 1}), digest("ab"), digest("a", "b"), digest()}) == 7


def test_digest_ignores_the_order_of_keys_but_not_of_list_items():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1, "b": [1, 2]}) != digest({"a": 1, "b": [2, 1]})


def test_digest_hashes_bytes_as_they_are_and_other_values_as_json():
    assert digest(b"x") == hashlib.sha256(hashlib.sha256(b"x").digest()).hexdigest()
    assert digest("x") == hashlib.sha256(hashlib.sha256(b'"x"').digest()).hexdigest()
    assert digest("å") == hashlib.sha256(hashlib.sha256('"\\u00e5"'.encode()).digest()).hexdigest()
    assert digest(Path("data/mal.yaml")) == digest("data/mal.yaml")  # paths and dates as their text


def test_file_hash_is_the_sha256_of_the_content(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"content")
    assert file_hash(path) == hashlib.sha256(b"content").hexdigest()


# --- Cache --------------------------------------------------------------------------------------


def stored(root: Path, name: str = "figure:x", key: str = "k1", value=True) -> Path:
    output = root / "figures" / "out.svg"  # outputs live in the tool's own folders (confine)
    output.parent.mkdir(exist_ok=True)
    output.write_bytes(b"<svg/>")
    cache = Cache(root)
    cache.store(name, key, [output], value)
    cache.save()
    return output


def test_a_saved_entry_is_found_by_name_and_key_in_a_new_process(tmp_path):
    output = stored(tmp_path, value={"alt": "text"})
    index = json.loads((tmp_path / CACHE_DIR / INDEX).read_text("utf-8"))
    assert index == {"version": FORMAT_VERSION, "entries": {"figure:x": {
        "key": "k1", "files": {"figures/out.svg": file_hash(output)}, "inputs": {},
        "value": {"alt": "text"}}}}  # names relative to the project: a copied project keeps its cache
    cache = Cache(tmp_path)
    assert cache.lookup("figure:x", "k1") == {"alt": "text"}
    assert cache.used == {"figure:x": "cached"}
    assert cache.lookup("figure:y", "k1") is None and cache.lookup("figure:x", "k2") is None
    assert cache.used == {"figure:x": "cached"}


def test_an_edited_or_deleted_output_is_not_trusted(tmp_path):
    output = stored(tmp_path)
    output.write_bytes(b"<svg>edited</svg>")
    assert Cache(tmp_path).lookup("figure:x", "k1") is None
    output.unlink()
    cache = Cache(tmp_path)
    assert cache.lookup("figure:x", "k1") is None and cache.used == {}


def test_a_copied_project_trusts_its_own_outputs_not_the_originals(tmp_path):
    (tmp_path / "proj").mkdir()
    stored(tmp_path / "proj")
    shutil.copytree(tmp_path / "proj", tmp_path / "copy")
    (tmp_path / "proj" / "figures" / "out.svg").write_bytes(b"<svg>edited</svg>")
    assert Cache(tmp_path / "copy").lookup("figure:x", "k1") is True
    assert Cache(tmp_path / "proj").lookup("figure:x", "k1") is None


def test_an_entry_holds_while_its_inputs_keep_their_content(tmp_path):
    image = tmp_path / "chapters" / "bild.png"
    image.parent.mkdir()
    image.write_bytes(b"png")
    output = tmp_path / "figures" / "a"
    output.parent.mkdir()
    output.write_bytes(b"a")
    cache = Cache(tmp_path)
    cache.store("checked", "k", [output], inputs=[image])
    cache.save()
    assert Cache(tmp_path).lookup("checked", "k") is True
    image.write_bytes(b"another png")
    assert Cache(tmp_path).lookup("checked", "k") is None
    image.unlink()
    assert Cache(tmp_path).lookup("checked", "k") is None


def test_store_refuses_an_output_outside_the_tools_folders(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mal.yaml").write_bytes(b"x: 1")
    with pytest.raises(InputError, match=re.escape(f"data/mal.yaml: {text('confine.not_output_area')}")):
        Cache(tmp_path).store("figure:x", "k", [tmp_path / "data" / "mal.yaml"])


@pytest.mark.parametrize("name", ["data/mal.yaml", "../outside.svg", "/etc/passwd"])
def test_an_index_that_names_a_file_outside_the_tools_folders_is_not_trusted(tmp_path, name):
    # a committed or edited index must not make the cache read (and vouch for) files it does not own
    target = (tmp_path / name).resolve()
    if target.is_relative_to(tmp_path.parent) and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x")
    path = tmp_path / CACHE_DIR / INDEX
    path.parent.mkdir()
    path.write_text(json.dumps({"version": FORMAT_VERSION, "entries": {
        "s": {"key": "k", "value": 3, "files": {name: file_hash(target)}}}}), "utf-8")
    assert Cache(tmp_path).lookup("s", "k") is None


def test_save_refuses_an_index_that_is_a_link(tmp_path):
    # a committed .underlag-cache/index.json link must not be replaced or written through: the
    # index is one of the tool's outputs, checked like every other
    outside = tmp_path / "outside.json"
    outside.write_text("{}", "utf-8")
    project = tmp_path / "proj"
    (project / CACHE_DIR).mkdir(parents=True)
    (project / CACHE_DIR / INDEX).symlink_to(outside)
    cache = Cache(project)
    cache.entries["s"] = {"key": "k", "value": 1}
    with pytest.raises(InputError, match=INDEX):
        cache.save()
    assert (project / CACHE_DIR / INDEX).is_symlink() and outside.read_text("utf-8") == "{}"


def test_store_records_a_rebuild(tmp_path):
    cache = Cache(tmp_path)
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a").write_bytes(b"a")
    cache.store("format:html", "k", [tmp_path / "figures" / "a"])
    assert cache.used == {"format:html": "rebuilt"}
    assert cache.lookup("format:html", "k") is True  # the default value marks "done"
    assert not (tmp_path / CACHE_DIR).exists()  # nothing is written before save()


@pytest.mark.parametrize("index", [
    "not json", "[]", json.dumps({"version": FORMAT_VERSION + 1, "entries": {"figure:x": {"key": "k1"}}}),
    json.dumps({"entries": {"figure:x": {"key": "k1"}}}), json.dumps({"version": FORMAT_VERSION, "entries": []}),
    json.dumps({"version": FORMAT_VERSION, "entries": {"figure:x": "k1"}}),
])
def test_a_corrupt_or_foreign_index_means_an_empty_cache(tmp_path, index):
    path = tmp_path / CACHE_DIR / INDEX
    path.parent.mkdir()
    path.write_text(index, "utf-8")
    cache = Cache(tmp_path)
    assert cache.lookup("figure:x", "k1") is None
    assert cache.entries in ({}, {"figure:x": "k1"})


def test_an_entry_without_files_is_reused(tmp_path):
    # an index written by hand or by an older version without outputs: nothing to verify
    path = tmp_path / CACHE_DIR / INDEX
    path.parent.mkdir()
    path.write_text(json.dumps({"version": FORMAT_VERSION, "entries": {"s": {"key": "k", "value": 3}}}), "utf-8")
    assert Cache(tmp_path).lookup("s", "k") == 3


def test_save_writes_only_when_the_index_changed(tmp_path):
    stored(tmp_path)
    path = tmp_path / CACHE_DIR / INDEX
    os.utime(path, (1, 1))
    Cache(tmp_path).save()
    assert path.stat().st_mtime == 1


def test_the_index_does_not_depend_on_the_order_of_stages(tmp_path):
    # stages finish in any order (figures in parallel): the same entries must give the same bytes,
    # or every build would rewrite the index
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "a").write_bytes(b"a")
    texts = []
    for order in (("figure:b", "figure:a"), ("figure:a", "figure:b")):
        shutil.rmtree(tmp_path / CACHE_DIR, ignore_errors=True)
        cache = Cache(tmp_path)
        for name in order:
            cache.store(name, "k", [tmp_path / "figures" / "a"], {"z": 1, "y": 2})
        cache.save()
        texts.append((tmp_path / CACHE_DIR / INDEX).read_bytes())
    assert texts[0] == texts[1]


# --- files ----------------------------------------------------------------------------------------


def test_write_if_changed_reports_and_writes_only_changes(tmp_path):
    path = tmp_path / "f.txt"
    assert write_if_changed(path, b"one") is True and path.read_bytes() == b"one"
    os.utime(path, (1, 1))
    assert write_if_changed(path, b"one") is False and path.stat().st_mtime == 1
    assert write_if_changed(path, b"two") is True and path.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]  # no temporary left behind


def test_the_lock_refuses_a_second_holder_until_released(tmp_path):
    with project_lock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} build\n"
        with pytest.raises(UnderlagError, match=re.escape(text("lock.held", holder=text("lock.holder.build"), lock=LOCK_FILE, limit=""))):
            with project_lock(tmp_path):
                pass
    with project_lock(tmp_path):  # released: the next one gets it
        pass


def test_the_lock_is_released_when_the_work_fails(tmp_path):
    with pytest.raises(ValueError):
        with project_lock(tmp_path):
            raise ValueError("a failed build")
    with project_lock(tmp_path):
        pass


def test_the_lock_removes_work_folders_of_killed_runs_only(tmp_path):
    for folder in ("report/.build-123", "report/versions/.tmp-1.0.0-99", "report/versions/1.0.0", "report/keep"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "f").write_text("x")
    with project_lock(tmp_path):
        pass
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob("report/**/f")) == [
        "report/keep/f", "report/versions/1.0.0/f"]


def test_a_stale_entry_that_cannot_be_removed_does_not_stop_the_lock(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / ".build-1").write_text("a file, not a work folder")  # rmtree cannot remove it
    with project_lock(tmp_path):
        pass


def test_the_lock_refuses_a_project_folder_that_is_not_there(tmp_path):
    # a mistyped --project must not create a folder and build into it
    with pytest.raises(InputError, match=re.escape(text("files.no_project"))):
        with project_lock(tmp_path / "new"):
            pass
    assert not (tmp_path / "new").exists()


def test_a_committed_lock_link_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / LOCK_FILE).symlink_to(victim)
    with pytest.raises(InputError):
        with project_lock(tmp_path / "proj"):
            pass
    assert victim.read_text() == "keep me"


def test_write_if_changed_with_a_root_writes_only_in_the_tools_folders(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError, match="data/x.yaml"):
        write_if_changed(tmp_path / "data" / "x.yaml", b"x", tmp_path)
    assert not (tmp_path / "data" / "x.yaml").exists()
    (tmp_path / "report").mkdir()
    assert write_if_changed(tmp_path / "report" / "x.html", b"x", tmp_path) is True


def test_a_forked_child_does_not_keep_the_lock_after_its_parent_dies(tmp_path):
    # the figure workers are forked while the build holds the lock; a killed build must not leave
    # them holding it (flock lasts while any process has the descriptor)
    import subprocess
    import sys

    script = ("import os, sys, time\n"
              "from pathlib import Path\n"
              "from underlag.engine.files import project_lock\n"
              "with project_lock(Path(sys.argv[1])):\n"
              "    if os.fork() == 0:\n"
              "        time.sleep(30); os._exit(0)\n"
              "    os._exit(0)\n")  # the parent dies holding the lock; its child lives on
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    with project_lock(tmp_path):  # no wait: the lock must be free at once
        pass


# --- waiting for the lock (build waits while the preview rebuilds) --------------------------------

def held_by(root: Path, purpose: str, seconds: float):
    """Another command holding the project's lock for `seconds` (a thread: flock locks one open
    file against another even within a process)."""
    import threading

    taken, done = threading.Event(), threading.Event()

    def hold():
        with project_lock(root, purpose=purpose):
            taken.set()
            done.wait(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    return thread, done


def test_a_waiting_command_is_told_once_who_holds_the_lock_and_gets_it_when_it_is_free(tmp_path):
    thread, _ = held_by(tmp_path, "preview", 0.45)  # several polls of 0.1 s
    told = []
    with project_lock(tmp_path, wait=10, waiting=told.append):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} build\n"
    thread.join()
    assert told == [text("lock.waiting", holder=text("lock.holder.preview"))]


@pytest.mark.parametrize("waiting", [None, list])
def test_a_wait_that_runs_out_names_the_holder_and_the_time(tmp_path, waiting):
    thread, done = held_by(tmp_path, "publish", 30)
    told = waiting() if waiting else None
    held = text("lock.held", holder=text("lock.holder.publish"), lock=LOCK_FILE,
                limit=text("lock.after", seconds="0.3"))
    try:
        with pytest.raises(UnderlagError, match=re.escape(held)):
            with project_lock(tmp_path, wait=0.3, waiting=told.append if told is not None else None):
                pass
    finally:
        done.set()
        thread.join()
    assert told in (None, [text("lock.waiting", holder=text("lock.holder.publish"))])


@pytest.mark.parametrize("content, holder", [
    ("4711 preview\n", "lock.holder.preview"), ("4711 publish\n", "lock.holder.publish"),
    ("4711\n", "lock.holder.build"),  # written by a version before the purpose was recorded
    ("4711 framtida-kommando\n", "lock.holder.build"),  # a purpose a newer version wrote
    (b"\xff\xfe", "lock.holder.build"),
])
def test_the_holder_is_named_from_what_it_wrote_into_the_lock_file(tmp_path, content, holder):
    from underlag.engine.files import _holder

    path = tmp_path / LOCK_FILE
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert _holder(path) == text(holder)


def test_taking_the_lock_leaves_no_report_folder_behind(tmp_path):
    with project_lock(tmp_path):
        pass
    assert not (tmp_path / "report").exists()


def test_a_dangling_report_link_is_refused_when_the_lock_is_taken(tmp_path):
    (tmp_path / "report").symlink_to(tmp_path / "elsewhere")  # points nowhere yet
    with pytest.raises(InputError, match="report"):
        with project_lock(tmp_path):
            pass
    assert not (tmp_path / "elsewhere").exists()


def test_a_forked_child_points_the_inherited_lock_descriptors_at_dev_null(tmp_path):
    """What the at-fork hook does in a forked figure worker, called directly (the fork itself is
    held by the subprocess test above)."""
    from underlag.engine import files

    held = os.open(tmp_path / "lock", os.O_WRONLY | os.O_CREAT)
    files._HELD.add(held)
    try:
        files._drop_inherited_locks()
        assert os.readlink(f"/proc/self/fd/{held}") == os.devnull
        assert files._HELD == set()
        files._drop_inherited_locks()  # nothing held: nothing to do
    finally:
        files._HELD.discard(held)
        os.close(held)
