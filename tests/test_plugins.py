"""gemini_doctor.plugins reads entry points as importlib.metadata does: compared with it on this environment's
own distributions, on made-up folders (shadowing, legacy egg-info) and where it hands over to importlib.metadata."""

from __future__ import annotations

import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from gemini_doctor import plugins


def metadata_view(group: str) -> list[tuple[str, str]]:
    return sorted((entry.name, entry.value) for entry in metadata.entry_points(group=group))


def plugins_view(group: str) -> list[tuple[str, str]]:
    return sorted((plugin.name, plugin.value) for plugin in plugins.entry_points(group))


def test_every_group_installed_here_reads_as_importlib_metadata_reads_it():
    groups = {entry.group for dist in metadata.distributions() for entry in dist.entry_points}
    assert {"console_scripts", "gemini_doctor.checks"} <= groups
    for group in sorted(groups):
        assert plugins_view(group) == metadata_view(group), group


def write_distribution(folder: Path, stem: str, entry_points: str) -> None:
    dist = folder / stem
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {stem.partition('-')[0]}\nVersion: 1\n")
    (dist / "entry_points.txt").write_text(entry_points)


def test_the_first_distribution_of_a_name_on_sys_path_wins(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    write_distribution(first, "Demo_Plugin-1.0.dist-info", "[demo.group]\none = demo_one:thing\n")
    write_distribution(second, "demo.plugin-2.0.dist-info", "[demo.group]\ntwo = demo_two:thing\n")
    write_distribution(
        second, "other-1.0.dist-info", "# a comment\n[other]\nx = y\n\n[demo.group]\nthree = m.n:o.p [extra]\n"
    )
    (second / "legacy.egg-info").write_text("Metadata-Version: 1.0\nName: legacy\n")  # a file, not a folder
    monkeypatch.setattr(sys, "path", [str(first), str(second)])
    assert plugins_view("demo.group") == metadata_view("demo.group")
    assert plugins_view("demo.group") == [("one", "demo_one:thing"), ("three", "m.n:o.p [extra]")]


def test_a_plugin_loads_the_attribute_it_names(tmp_path, monkeypatch):
    (tmp_path / "demo_mod.py").write_text("class Outer:\n    class Inner:\n        pass\n")
    write_distribution(tmp_path, "demo_mod-1.0.dist-info", "[demo.group]\nnested = demo_mod:Outer.Inner\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    (plugin,) = [p for p in plugins.entry_points("demo.group") if p.name == "nested"]
    assert plugin.load().__qualname__ == "Outer.Inner"
    with pytest.raises(ValueError):
        plugins.Plugin("bad", "not a value!").load()


def test_a_zip_on_sys_path_is_read_by_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.0\n")
        bundle.writestr("zipped-1.0.dist-info/entry_points.txt", "[demo.group]\nzipped = zipped_mod:thing\n")
    monkeypatch.syspath_prepend(str(archive))
    assert ("zipped", "zipped_mod:thing") in plugins_view("demo.group")
    assert plugins_view("demo.group") == metadata_view("demo.group")


def test_an_unpacked_egg_on_sys_path_is_read_by_importlib_metadata(tmp_path, monkeypatch):
    egg_info = tmp_path / "eggy-1.0-py3.11.egg" / "EGG-INFO"
    egg_info.mkdir(parents=True)
    (egg_info / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: eggy\nVersion: 1.0\n")
    (egg_info / "entry_points.txt").write_text("[demo.group]\neggy = eggy_mod:thing\n")
    monkeypatch.syspath_prepend(str(egg_info.parent))
    assert ("eggy", "eggy_mod:thing") in plugins_view("demo.group")
    assert plugins_view("demo.group") == metadata_view("demo.group")


def test_names_and_suffixes_in_any_case_and_the_listing_order_decide_as_importlib_metadata(tmp_path, monkeypatch):
    """Within one folder the first metadata folder of a name in the listing wins, .dist-info or .egg-info alike."""
    folder = tmp_path / "site"
    folder.mkdir()
    write_distribution(folder, "Mixed-1.0.DIST-INFO", "[demo.group]\nupper = mixed_upper:thing\n")
    write_distribution(folder, "mixed-2.0.egg-info", "[demo.group]\nlegacy = mixed_legacy:thing\n")
    write_distribution(folder, "solo-1.0.Egg-Info", "[demo.group]\nsolo = solo_mod:thing\n")
    monkeypatch.setattr(sys, "path", [str(folder)])
    assert plugins_view("demo.group") == metadata_view("demo.group")
    assert ("solo", "solo_mod:thing") in plugins_view("demo.group")
    assert len([name for name, _ in plugins_view("demo.group") if name in ("upper", "legacy")]) == 1
