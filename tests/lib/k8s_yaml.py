# SPDX-License-Identifier: Apache-2.0
"""YAML as Kubernetes reads it (sigs.k8s.io/yaml): timestamps stay strings.

Shared by the Python checks under tests/ (they put tests/lib on sys.path).
"""
import yaml


class Loader(yaml.SafeLoader):
    pass


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_all_text(text):
    """Every document of text, empty ones dropped."""
    return [d for d in yaml.load_all(text, Loader=Loader) if d is not None]


def load_all(path):
    """Every document of the file at path, empty ones dropped."""
    with open(path, encoding="utf-8") as f:
        return load_all_text(f.read())
