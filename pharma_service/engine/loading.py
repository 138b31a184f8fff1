"""Reading and validating rule files: every error names the file and the key."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pharma_service.errors import KnowledgeBaseError

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, path: Path, where: str = "the file") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise KnowledgeBaseError(f"{path}: {where}: {problems}") from exc


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"cannot read rule file {path}: {exc}") from exc


def read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise KnowledgeBaseError(f"cannot read rule file {path}: {exc}") from exc
