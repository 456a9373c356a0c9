"""Faults of the machine (full disk, read-only or unwritable folder, a file where a folder should be, out of
memory) end with one sentence naming the cause and the path, not a traceback; the next run completes."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import outputs_digest, snakemake
from umbrella.core import runner, tables
from umbrella.core.faults import describe_fault, unwritable

AGAIN = "run the same command again"


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "no permission to use it"),
        (errno.ENOTDIR, "a file stands where a folder is expected"),
    ],
)
def test_each_fault_is_one_sentence_with_cause_and_path(code: int, cause: str) -> None:
    message = describe_fault(OSError(code, os.strerror(code), "results/quality/amstar2_ratings.csv"))
    assert message is not None
    assert "results/quality/amstar2_ratings.csv" in message and cause in message and AGAIN in message
    assert "\n" not in message and "Errno" not in message


def test_out_of_memory_and_other_errors() -> None:
    message = describe_fault(MemoryError(), "results/effects/pooled.csv")
    assert "out of memory" in message and "results/effects/pooled.csv" in message
    assert describe_fault(OSError(errno.ENOSPC, "No space left on device"), "reports/x.zip").startswith(
        "Could not write reports/x.zip: the disk is full."
    )
    assert describe_fault(FileNotFoundError(errno.ENOENT, "No such file", "x")) is None  # a bug: keep its traceback
    assert describe_fault(ValueError("x")) is None


def _job(tmp_path: Path) -> SimpleNamespace:
    """What a ``script:`` job's ``snakemake`` object offers the runner."""
    return SimpleNamespace(log=[str(tmp_path / "job.log")], output=[str(tmp_path / "results/stage/table.csv")])


def _run(job: SimpleNamespace, main, capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exit_info:
        runner.run(job, main)
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def test_full_disk_in_a_writer_ends_with_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    job = _job(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tables, "write_rows", full)
    err = _run(job, lambda sm: tables.write_table(pd.DataFrame({"a": [1]}), sm.output[0]), capsys)
    sentence = f"Could not write {job.output[0]}: the disk is full. Free some space and {AGAIN}"
    assert sentence in err and "Traceback" not in err
    assert sentence in Path(job.log[0]).read_text()
    folder = Path(job.output[0]).parent
    assert list(folder.iterdir()) == []  # nothing half-written: the temporary file went too


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_unwritable_file_named_by_the_error(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A write refused by the system (as ``open`` refuses it on a read-only disk, to a user without permission,
    or on a full disk) names the file the system names."""
    job = _job(tmp_path)
    real_open = open

    def refusing_open(file, mode="r", *args, **kwargs):
        if "w" in mode and str(file).endswith("figure.svg"):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, mode, *args, **kwargs)

    def main(sm):
        with refusing_open(str(tmp_path / "results/stage/figure.svg"), "w") as fh:
            fh.write("x")

    err = _run(job, main, capsys)
    verb = "write" if code in (errno.EROFS, errno.ENOSPC) else "use"
    assert f"Could not {verb} {tmp_path / 'results/stage/figure.svg'}: " in err
    assert "Traceback" not in err and AGAIN in err


def test_out_of_memory_in_a_job(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def main(sm):
        raise MemoryError

    err = _run(_job(tmp_path), main, capsys)
    assert "ran out of memory" in err and "Traceback" not in err


def test_a_bug_keeps_its_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    job = _job(tmp_path)

    def main(sm):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "missing.csv")

    with pytest.raises(FileNotFoundError):
        runner.run(job, main)
    assert "Traceback" in Path(job.log[0]).read_text()
    assert "the traceback is in" in capsys.readouterr().err


def test_log_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """Even the job's log cannot be written: the sentence still reaches the terminal."""
    job = _job(tmp_path)

    def full_open(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", job.log[0])

    monkeypatch.setattr(runner, "open", full_open, raising=False)
    err = _run(job, lambda sm: None, capsys)
    assert f"Could not write {job.log[0]}: the disk is full." in err


def test_unwritable_folders_found_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "results/simulated").mkdir(parents=True)
    (tmp_path / "results/simulated/quality").write_text("not a folder")
    outputs = [tmp_path / "results/simulated/extract/reviews.csv", tmp_path / "results/simulated/quality/a.csv"]
    message = unwritable(outputs)
    assert message == (
        f"Could not use {tmp_path / 'results/simulated/quality'}: a file stands where a folder is expected. "
        f"Move that file away and {AGAIN}; it continues where this run stopped."
    )
    (tmp_path / "results/simulated/quality").unlink()
    assert unwritable(outputs) is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_found_before_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert "no permission to use it" in unwritable([folder / "extract/reviews.csv"])
    finally:
        folder.chmod(0o755)


def test_read_only_disk_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from umbrella.core import faults

    monkeypatch.setattr(faults.os, "access", lambda path, mode: False)
    monkeypatch.setattr(faults, "_read_only", lambda folder: True)
    message = unwritable([tmp_path / "results/extract/reviews.csv"])
    assert message.startswith(f"Could not write {tmp_path}: the folder is on a read-only disk.")


@pytest.mark.e2e
def test_file_where_a_folder_is_expected_then_fixed(simulated_run: Path, copy_run) -> None:
    work = copy_run(simulated_run)
    quality = work / "results/simulated/quality"
    shutil.rmtree(quality)
    quality.write_text("a file where the pipeline's folder should be\n")
    (work / "reports/simulated/umbrella_review.html").unlink()  # so that the quality stage is needed again
    result = snakemake(work, "--cores", "2", "--configfile", "config/simulated.yaml")
    assert result.returncode != 0
    assert (
        "Could not use results/simulated/quality: a file stands where a folder is expected. "
        f"Move that file away and {AGAIN}" in result.stderr
    )
    assert "Traceback" not in result.stderr and "NotADirectoryError" not in result.stderr
    quality.unlink()
    result = snakemake(work, "--cores", "2", "--configfile", "config/simulated.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rate_amstar2" in result.stderr  # the stage did run again, into its folder
    assert outputs_digest(work) == outputs_digest(simulated_run)


def test_parse_time_stamp_in_a_folder_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse-time record of validated sheets (``.snakemake/umbrella/``) fails with a fault the workflow
    turns into one sentence (common.smk: ``describe_fault``)."""
    import yaml
    from umbrella.core.config import validate_config, vocabularies
    from umbrella.core.datasets import find_sheets
    from umbrella.preflight import validate_once

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    config = validate_config(yaml.safe_load((root / "config/config.yaml").read_text(encoding="utf-8")))
    sheets, problems = find_sheets(config["data"])
    assert not problems
    (tmp_path / ".snakemake").mkdir()
    (tmp_path / ".snakemake/umbrella").write_text("x")
    with pytest.raises(OSError) as info:
        validate_once(sheets, vocabularies(config), tmp_path / ".snakemake/umbrella/_default/sheets.validated",
                      prisma=config["prisma"])  # fmt: skip
    message = describe_fault(info.value)
    assert message is not None and ".snakemake/umbrella" in message and "a file stands where" in message
