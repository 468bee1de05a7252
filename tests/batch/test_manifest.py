"""The manifest's text (batch/manifest.py): each record serialised once and kept, the bytes
of one ``json.dumps`` of the whole manifest (the slow reference) and of a plain CSV writer."""

from __future__ import annotations

import csv
import io
import json

import pytest

from stillcam.batch.manifest import (
    CSV_COLUMNS,
    Manifest,
    ShotRecord,
    manifest_csv,
    manifest_json,
    manifest_json_reference,
)

RECORDS = (
    ShotRecord(
        "SEQ010_SH010", "done", 1, 1, "shots.csv row 2", ("r/a_v001.mov", "r/a.glb"), "r/a.json", 1.25, 48
    ),
    ShotRecord("SH020 ü", "failed", 2, 1, "row 3", (), None, 0.5, 0, 'photo: "x"\tmissing', "v1 taken"),
    ShotRecord("SH030", "queued", 1, 1),
    ShotRecord("SH040,x", "skipped", 3, 3, "clip 4", ("a;b.mp4",), "a;b.mp4.recipe.json", 0.0, 12),
)


@pytest.mark.parametrize("count", [0, 1, 4])
@pytest.mark.parametrize("extra", [{}, {"otio": "batch.otio", "stopped": {"by": "fail-fast", "n": [1, 2]}}])
def test_the_json_is_the_whole_manifests_dump(count, extra):
    manifest = Manifest(
        "stillcam batch shots.yaml -o r", {"workers": 2, "list": "ü"}, RECORDS[:count], "t0", "t1", extra
    )
    text = manifest_json(manifest)
    assert text == manifest_json_reference(manifest)
    assert [shot["name"] for shot in json.loads(text)["shots"]] == [r.name for r in RECORDS[:count]]


def test_a_record_changed_after_it_was_cached_is_written_as_it_is_now():
    first = Manifest("c", {}, RECORDS[2:3])
    manifest_json(first)
    done = ShotRecord("SH030", "done", 1, 1, outputs=("x.mp4",), frames=5)
    later = manifest_json(Manifest("c", {}, (done,)))
    assert json.loads(later)["shots"][0]["status"] == "done"
    assert json.loads(later)["totals"]["done"] == 1


def test_the_csv_reads_back_row_by_row():
    rows = list(csv.reader(io.StringIO(manifest_csv(Manifest("c", {}, RECORDS)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[0] for row in rows[1:]] == [r.name for r in RECORDS]
    assert rows[2][CSV_COLUMNS.index("error")] == 'photo: "x"\tmissing'
    assert rows[4][CSV_COLUMNS.index("outputs")] == "a;b.mp4"
    assert rows[3][CSV_COLUMNS.index("recipe")] == ""
