# SPDX-License-Identifier: Apache-2.0
"""--nodes FILE: Node objects, and their GPUs published as the NVIDIA DRA
driver (k8s-dra-driver-gpu) publishes them: one ResourceSlice per node
(resource.k8s.io v1beta2 shape) and the DeviceClass gpu.nvidia.com.

The file is YAML: a list of nodes (or {"nodes": [...]}), each

    name: b200-0
    labels: {topology.kubernetes.io/zone: zone-a, example.com/rack: rack-1}
    taints: [{key: k, value: v, effect: NoSchedule}]
    allocatable: {cpu: "224", memory: 2000Gi, pods: "110"}    # capacity too
    gpus:
      count: 8
      attributes: {productName: NVIDIA B200, architecture: Blackwell,
                   driverVersion: {version: 570.133.20}, ...}
      capacity: {memory: 183359Mi}

An attribute value is a string, an int or a bool as written, or a typed
{string|int|bool|version: v}.  Each device also gets what the driver
gives every GPU: type "gpu", uuid, index and minor, pcieBusID (and
brand/cudaComputeCapability/cudaDriverVersion when the file does not set
them).  Only `name` is required.

The scheduler and the kubelet read Nodes and ResourceSlices from the
store whoever made them: a test may create them through the API instead.
"""

import copy
import uuid

import yaml

from .errors import ApiError


DRIVER = "gpu.nvidia.com"
# what the driver's Helm chart installs
DEVICE_CLASS_SELECTOR = ("device.driver == 'gpu.nvidia.com' && "
                         "device.attributes['gpu.nvidia.com'].type == 'gpu'")
KUBELET_VERSION = "v1.33.1"
# PCI bus IDs of the eight GPUs of an HGX board (as nvidia-smi shows them)
_BUS_IDS = ["0000:1b:00.0", "0000:43:00.0", "0000:52:00.0", "0000:61:00.0",
            "0000:9d:00.0", "0000:c3:00.0", "0000:d1:00.0", "0000:df:00.0"]
_PCIE_ROOTS = ["pci0000:15", "pci0000:3d", "pci0000:4e", "pci0000:5d",
               "pci0000:97", "pci0000:bd", "pci0000:cc", "pci0000:da"]


def read_nodes_file(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    if isinstance(doc, dict):
        doc = doc.get("nodes")
    if not isinstance(doc, list):
        raise ValueError("%s: want a list of nodes (or {nodes: [...]})" % path)
    for i, n in enumerate(doc):
        if not isinstance(n, dict) or not n.get("name"):
            raise ValueError("%s: node #%d has no name" % (path, i))
    return doc


def _typed(value):
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("string", "int", "bool", "version"):
            raise ValueError("an attribute is a scalar or {string|int|bool|version: v}, "
                             "not %r" % (value,))
        return dict(value)
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    return {"string": str(value)}


def gpu_devices(node_name, gpus):
    """The spec.devices of the node's slice, as the driver makes them."""
    gpus = gpus or {}
    count = int(gpus.get("count", 0))
    base = {k: _typed(v) for k, v in (gpus.get("attributes") or {}).items()}
    base.setdefault("type", {"string": "gpu"})
    base.setdefault("brand", {"string": "Nvidia"})
    cap = {k: {"value": str(v)} for k, v in (gpus.get("capacity") or {}).items()}
    devices = []
    for i in range(count):
        attrs = copy.deepcopy(base)
        attrs["uuid"] = {"string": "GPU-" + str(uuid.uuid5(uuid.NAMESPACE_DNS, "%s/gpu-%d" % (
            node_name, i)))}
        attrs["index"] = {"int": i}
        attrs["minor"] = {"int": i}
        attrs["pcieBusID"] = {"string": _BUS_IDS[i % len(_BUS_IDS)]}
        attrs["resource.kubernetes.io/pcieRoot"] = {"string": _PCIE_ROOTS[i % len(_PCIE_ROOTS)]}
        devices.append({"name": "gpu-%d" % i, "attributes": attrs,
                        "capacity": copy.deepcopy(cap)})
    return devices


def node_object(spec):
    name = spec["name"]
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "beta.kubernetes.io/arch": "amd64"}
    labels.update({k: str(v) for k, v in (spec.get("labels") or {}).items()})
    alloc = {k: str(v) for k, v in (spec.get("allocatable") or {}).items()}
    alloc.setdefault("pods", "110")
    capacity = dict(alloc)
    capacity.update({k: str(v) for k, v in (spec.get("capacity") or {}).items()})
    ts = "1970-01-01T00:00:00Z"
    conds = [{"type": t, "status": "False", "reason": r, "message": m,
              "lastHeartbeatTime": ts, "lastTransitionTime": ts}
             for t, r, m in (("MemoryPressure", "KubeletHasSufficientMemory",
                              "kubelet has sufficient memory available"),
                             ("DiskPressure", "KubeletHasNoDiskPressure",
                              "kubelet has no disk pressure"),
                             ("PIDPressure", "KubeletHasSufficientPID",
                              "kubelet has sufficient PID available"))]
    conds.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                  "message": "kubelet is posting ready status", "lastHeartbeatTime": ts,
                  "lastTransitionTime": ts})
    index = spec.get("_index", 0)
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {},
            "status": {
                "capacity": capacity, "allocatable": alloc, "conditions": conds,
                "addresses": [{"type": "InternalIP",
                               "address": "10.%d.%d.%d" % (
                                   (index >> 16) & 255, (index >> 8) & 255, index & 255)},
                              {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                             "osImage": "Ubuntu 22.04.5 LTS",
                             "kernelVersion": "5.15.0-139-generic",
                             "containerRuntimeVersion": "containerd://1.7.27",
                             "kubeletVersion": KUBELET_VERSION,
                             "kubeProxyVersion": KUBELET_VERSION,
                             "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
                             "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                             "bootID": str(uuid.uuid5(uuid.NAMESPACE_OID, name))}}}
    if spec.get("taints"):
        node["spec"]["taints"] = [dict(t) for t in spec["taints"]]
    if spec.get("unschedulable"):
        node["spec"]["unschedulable"] = True
    return node


def slice_object(node, devices):
    name = node["metadata"]["name"]
    return {"apiVersion": "resource.k8s.io/v1beta2", "kind": "ResourceSlice",
            "metadata": {"generateName": "%s-%s-" % (name, DRIVER),
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                              "uid": node["metadata"]["uid"],
                                              "controller": True}]},
            "spec": {"driver": DRIVER, "nodeName": name,
                     "pool": {"name": name, "generation": 1, "resourceSliceCount": 1},
                     "devices": devices}}


def device_class():
    return {"apiVersion": "resource.k8s.io/v1beta2", "kind": "DeviceClass",
            "metadata": {"name": DRIVER},
            "spec": {"selectors": [{"cel": {"expression": DEVICE_CLASS_SELECTOR}}]}}


def ensure_device_class(store):
    rt = store.types[("resource.k8s.io", "deviceclasses")]
    try:
        store.create(rt, None, device_class())
    except ApiError as e:
        if e.code != 409:
            raise


def create_nodes(store, specs):
    """Node objects, their ResourceSlices, and the DeviceClass (if any GPU)."""
    nodes_rt = store.types[("", "nodes")]
    slices_rt = store.types[("resource.k8s.io", "resourceslices")]
    any_gpu = False
    for i, spec in enumerate(specs):
        spec = dict(spec, _index=i + 1)
        node = store.create(nodes_rt, None, node_object(spec))
        devices = gpu_devices(spec["name"], spec.get("gpus"))
        if devices:
            any_gpu = True
            store.create(slices_rt, None, slice_object(node, devices))
    if any_gpu:
        ensure_device_class(store)


def load_nodes(store, path):
    create_nodes(store, read_nodes_file(path))
