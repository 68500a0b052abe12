"""Selections and chapters (synthesis/chapters.py): ``--analysis`` as an exact name, a shell glob or
``tag:NAME``, resolved in analyses.yaml's order; a pattern that matches nothing is a usage error
naming what there is. And the ``tags:`` of analyses.yaml, validated like every other field."""

from __future__ import annotations

import shutil

import pytest

from conftest import TRIALS
from trialmeta.errors import InputError, UsageError
from trialmeta.registry.analyses import load_analyses
from trialmeta.synthesis.chapters import LISTED, chapters, select_analyses

#: trials/analyses.yaml's analyses, in its order
ORDER = ["pi3k-akt-pfs", "pi3k-akt-pfs-confirmed-negative", "pi3k-akt-os", "alpelisib-altered-pfs",
         "capivasertib-altered-pfs", "capivasertib-pfs", "capivasertib-os", "carfilzomib-pfs",
         "carfilzomib-pfs-cytogenetics", "carfilzomib-os", "carfilzomib-orr", "pearl-pfs-ccne1"]


@pytest.fixture(scope="module")
def spec():
    return load_analyses(TRIALS / "analyses.yaml")[0]


def test_every_analysis_without_a_selection(spec):
    assert [a.name for a in spec.analyses] == ORDER
    assert select_analyses(spec, None) == select_analyses(spec, []) == ORDER


def test_exact_glob_and_tag_in_file_order(spec):
    assert select_analyses(spec, "capivasertib-os") == ["capivasertib-os"]
    assert select_analyses(spec, ["carfilzomib-*"]) == ORDER[7:11]
    assert select_analyses(spec, ["*-os"]) == ["pi3k-akt-os", "capivasertib-os", "carfilzomib-os"]
    assert select_analyses(spec, ["tag:myeloma"]) == ORDER[7:11]
    assert select_analyses(spec, ["tag:sensitivity"]) == ["pi3k-akt-pfs-confirmed-negative"]
    # several patterns: their union, in analyses.yaml's order whatever the order given, each once
    assert select_analyses(spec, ["pearl-pfs-ccne1", "tag:orr", "capivasertib-os", "carfilzomib-orr"]) == \
        ["capivasertib-os", "carfilzomib-orr", "pearl-pfs-ccne1"]
    assert select_analyses(spec, ["tag:os", "tag:myeloma"]) == \
        ["pi3k-akt-os", "capivasertib-os", "carfilzomib-pfs", "carfilzomib-pfs-cytogenetics", "carfilzomib-os",
         "carfilzomib-orr"]
    # a glob is case-sensitive, as analysis names are
    with pytest.raises(UsageError):
        select_analyses(spec, ["CARFILZOMIB-*"])


def test_a_registry_folder_or_file_from_python(spec):
    import trialmeta as tm

    assert tm.select_analyses(TRIALS, ["tag:breast"]) == select_analyses(spec, ["tag:breast"])
    assert tm.select_analyses(TRIALS / "analyses.yaml", "tag:pfs") == [
        n for n in ORDER if n.endswith("-pfs") or n in ("pi3k-akt-pfs-confirmed-negative", "carfilzomib-pfs-cytogenetics",
                                                         "pearl-pfs-ccne1")]


def test_a_pattern_matching_nothing_names_what_there_is(spec):
    with pytest.raises(UsageError) as exc:
        select_analyses(spec, ["carfilzomib-pfs", "carfilzomib-ps"], "trials/analyses.yaml")
    text = str(exc.value)
    assert text.startswith("unknown analysis 'carfilzomib-ps' in trials/analyses.yaml (did you mean "
                           "'carfilzomib-pfs'?); analyses: ")
    assert "pi3k-akt-pfs, pi3k-akt-pfs-confirmed-negative" in text and "tags: breast, pfs, sensitivity, os" in text
    with pytest.raises(UsageError, match=r"no analysis in .* has tag 'myelom' \(did you mean 'myeloma'\?\); "
                                         r"tags: breast, pfs, sensitivity, os, myeloma, orr$"):
        select_analyses(spec, ["tag:myelom"])


def test_a_long_list_is_shortened(spec):
    many = [spec.analyses[0].model_copy(update={"name": f"analysis-{i}", "tags": []}) for i in range(40)]
    with pytest.raises(UsageError) as exc:
        select_analyses(many, ["nothing-*"])
    assert str(exc.value).startswith("--analysis 'nothing-*' matches no analysis in analyses.yaml; analyses: ")
    assert f"analysis-{LISTED - 1}, ... and {40 - LISTED} more;" in str(exc.value)
    assert "tags: untagged" in str(exc.value)  # the chapter of the analyses without tags


def test_chapters_follow_the_file(spec):
    analyses = [*spec.analyses, spec.analyses[0].model_copy(update={"name": "no-tags", "tags": []})]
    groups = chapters(analyses)
    assert list(groups) == ["breast", "pfs", "sensitivity", "os", "myeloma", "orr", "untagged"]
    assert groups["os"] == ["pi3k-akt-os", "capivasertib-os", "carfilzomib-os"]
    assert groups["untagged"] == ["no-tags"]
    assert select_analyses(analyses, ["tag:untagged"]) == ["no-tags"]
    assert "untagged" not in chapters(spec.analyses)  # only when some analysis has no tags


@pytest.mark.parametrize("tags, problem", [
    ("[breast, os, breast]", "analyses[0].tags[2]: duplicate tag 'breast'"),
    ("[Breast]", "analyses[0].tags[0]: tags are lower-case letters and digits joined by single '-'"),
    ("[hr positive]", "analyses[0].tags[0]: tags are lower-case"),
    ("[untagged]", "analyses[0].tags[0]: tag 'untagged' is reserved"),
    ("breast", "analyses[0].tags"),
])
def test_bad_tags_are_located(tmp_path, tags, problem):
    shutil.copy(TRIALS / "analyses.yaml", tmp_path / "analyses.yaml")
    path = tmp_path / "analyses.yaml"
    text = path.read_text()
    assert "    tags: [breast, pfs]\n" in text
    path.write_text(text.replace("    tags: [breast, pfs]\n", f"    tags: {tags}\n", 1))
    line = text.splitlines().index("    tags: [breast, pfs]") + 1
    with pytest.raises(InputError) as exc:
        load_analyses(path)
    assert f"analyses.yaml:{line}: {problem}" in str(exc.value)
