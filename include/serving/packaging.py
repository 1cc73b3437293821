"""Package a registered model version as a Bento: the request schema from the use case's features
(typed by the model's signature), labels with its lineage, the pinned serving requirements."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from include.common.environments import usecase_names
from include.common.metadata import TagKey
from include.common.registry import download_model
from include.common.usecase import UseCase
from include.serving.environments import ensure_environment, pin_requirements
from include.serving.server import serving_env

if TYPE_CHECKING:
    from mlflow import MlflowClient

SERVING_DIR = Path(__file__).resolve().parent
SERVICE_SOURCE = SERVING_DIR / "bento" / "service.py"
MODEL_FOLDER = "mlflow_model"  # where bentoml.mlflow keeps the MLflow model inside a BentoML model


class PackagingError(RuntimeError):
    """The model version cannot be packaged (its signature lacks a feature, the build failed...)."""


@dataclass(frozen=True)
class BentoRef:
    """A built Bento, the environment that serves it and the model version inside."""

    tag: str
    environment: str
    model_name: str
    model_version: str
    run_id: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BentoRef:
        return cls(**{key: str(values[key]) for key in cls.__dataclass_fields__})


def feature_schema(usecase: UseCase, mlmodel: dict[str, Any]) -> list[dict[str, str]]:
    """The use case's features in order, each with its type from the model signature's inputs."""
    signature = (mlmodel.get("signature") or {}).get("inputs")
    if not signature:
        raise PackagingError("the model version has no input signature: retrain it with this project's training")
    types = {column["name"]: column["type"] for column in json.loads(signature)}
    missing = [name for name in usecase.features if name not in types]
    if missing:
        raise PackagingError(f"the model's signature lacks the use case's features {missing}")
    return [{"name": name, "type": types[name]} for name in usecase.features]


def bento_name(usecase: UseCase) -> str:
    """The Bento (and BentoML model) name: the registered model's name in this environment."""
    return usecase_names(usecase).registered_model


def bento_labels(run_tags: dict[str, str], model_name: str, version: str, run_id: str,
                 packaged_by: str) -> dict[str, str]:
    """What the Bento was built from: MLflow run and version, lakeFS commit, code versions."""
    return {"mlflow_run_id": run_id, "model_name": model_name, "model_version": version,
            "lakefs_repository": run_tags.get(TagKey.LAKEFS_REPOSITORY, ""),
            "lakefs_commit": run_tags.get(TagKey.LAKEFS_COMMIT, ""),
            "code_version": run_tags.get(TagKey.CODE_VERSION, ""), "packaged_by_code_version": packaged_by}


def service_config(usecase: UseCase, model_name: str, version: str, features: list[dict[str, str]],
                   labels: dict[str, str]) -> dict[str, Any]:
    """``service_config.json``: everything the service reads at start."""
    serving, training = usecase.require_serving(), usecase.require_training()
    return {"service_name": f"{usecase.name}_model", "model_tag": f"{bento_name(usecase)}:v{version}",
            "model_name": model_name, "model_version": version, "task": usecase.task, "features": features,
            "max_batch_size": serving.max_batch_size, "max_latency_ms": serving.max_latency_ms,
            "decision_threshold": training.decision_threshold, "labels": labels}


def service_source(usecase: UseCase) -> Path:
    """The service module: the project's, or a replacement the use case names (tests inject faults so)."""
    custom = usecase.require_serving().service
    return usecase.folder / custom if custom else SERVICE_SOURCE


def build_bento(client: MlflowClient, usecase: UseCase, version: str, bentoml_home: Path,
                packaged_by: str) -> BentoRef:
    """Build (or rebuild: idempotent) the Bento ``<model>:v<version>`` in ``bentoml_home``."""
    model_name = bento_name(usecase)
    model_version = client.get_model_version(model_name, version)
    run_id = str(model_version.run_id)
    run_tags = dict(client.get_run(run_id).data.tags)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        model_dir = download_model(client, model_name, version, work / "download")
        mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text())
        labels = bento_labels(run_tags, model_name, version, run_id, packaged_by)
        config = service_config(usecase, model_name, version, feature_schema(usecase, mlmodel), labels)
        requirements = pin_requirements((model_dir / "requirements.txt").read_text())
        environment = ensure_environment(requirements)
        build_dir = work / "build"
        build_dir.mkdir()
        shutil.copy(SERVICE_SOURCE, build_dir / "model_service.py")
        shutil.copy(service_source(usecase), build_dir / "service.py")
        (build_dir / "service_config.json").write_text(json.dumps(config, indent=2))
        (build_dir / "requirements.txt").write_text(requirements)
        spec = {"model_dir": str(model_dir), "build_dir": str(build_dir), "name": model_name, "version": f"v{version}",
                "labels": labels, "description": f"{usecase.description}\n\nModel {model_name} version {version}."}
        (work / "spec.json").write_text(json.dumps(spec))
        result = subprocess.run([str(environment / "bin" / "python"), str(SERVING_DIR / "bento" / "build.py"),
                                 str(work / "spec.json")], env=serving_env(bentoml_home),
                                capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"bentoml build failed:\n{result.stderr[-4000:]}")
    tag = json.loads(result.stdout.strip().splitlines()[-1])["bento"]
    return BentoRef(tag, str(environment), model_name, version, run_id)


def bento_environment(bentoml_home: Path, tag: str) -> Path:
    """The serving environment of an existing Bento (from its pinned requirements)."""
    name, version = tag.split(":")
    requirements = bentoml_home / "bentos" / name / version / "env" / "python" / "requirements.txt"
    if not requirements.exists():
        raise PackagingError(f"no Bento {tag} in {bentoml_home}")
    return ensure_environment(requirements.read_text())


def bento_model_dir(bentoml_home: Path, tag: str) -> Path:
    """The MLflow model folder inside the Bento's model (what the server loads)."""
    name, version = tag.split(":")
    return bentoml_home / "models" / name / version / MODEL_FOLDER
