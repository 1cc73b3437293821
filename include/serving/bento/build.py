"""Build a Bento inside the serving environment: ``<serving env>/bin/python build.py <spec.json>``.

Run as a script by ``include.serving.packaging.build_bento`` with ``BENTOML_HOME`` set, so the Bento is
built by the BentoML that will serve it and the calling process never imports BentoML. The spec names
the MLflow model folder, the build folder (``service.py``, ``service_config.json``, ``requirements.txt``),
the Bento's name, version and labels. Prints the Bento's tag as JSON on the last line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def build(spec: dict[str, object]) -> str:
    import bentoml

    labels = {str(k): str(v) for k, v in dict(spec["labels"]).items()}  # type: ignore[call-overload]
    tag = f"{spec['name']}:{spec['version']}"
    for stale in (bentoml.bentos.list(tag), bentoml.models.list(tag)):
        for item in stale:  # a rebuild of the same version replaces it (idempotent)
            (bentoml.bentos.delete if isinstance(item, bentoml.Bento) else bentoml.models.delete)(item.tag)
    bentoml.mlflow.import_model(tag, str(spec["model_dir"]), labels=labels,
                                signatures={"predict": {"batchable": True}})
    context = Path(str(spec["build_dir"]))
    bento = bentoml.bentos.build("service:ModelService", name=str(spec["name"]), version=str(spec["version"]),
                                 labels=labels, description=str(spec["description"]), include=["*.py", "*.json"],
                                 python={"requirements_txt": "requirements.txt",
                                         "lock_packages": False},
                                 models=[tag], build_ctx=str(context))
    return str(bento.tag)


if __name__ == "__main__":
    print(json.dumps({"bento": build(json.loads(Path(sys.argv[1]).read_text()))}))
