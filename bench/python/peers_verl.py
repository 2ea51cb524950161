# SPDX-License-Identifier: Apache-2.0
"""verl's sequence-length balancing, the real code from the pinned PyPI wheel (verl==0.9.1).

`verl.utils.seqlen_balancing` (https://github.com/volcengine/verl, Apache-2.0) imports verl.protocol
(ray, tensordict, ...) at module level for its DataProto helpers, which the balancing functions never
use. Instead of vendoring, the installed file is loaded on its own with three tiny stand-in modules
for those imports, so `karmarkar_karp`, `get_seqlen_balanced_partitions` and `calculate_workload` run
exactly as shipped. Needs `pip install verl==0.9.1 --no-deps`; torch is used when installed, else a
stand-in module too (the balancing functions never touch torch; calculate_workload is plain arithmetic).
"""
import importlib.util
import os
import sys
import types

VERL_VERSION = "0.9.1"


def load():
    """The module object of the installed verl/utils/seqlen_balancing.py, or None when verl is absent."""
    spec = importlib.util.find_spec("verl")  # locates the package without running verl/__init__.py
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "utils", "seqlen_balancing.py")
    if not os.path.exists(path):
        return None
    stubs = {
        "verl": types.ModuleType("verl"),
        "verl.protocol": types.ModuleType("verl.protocol"),
        "verl.utils": types.ModuleType("verl.utils"),
        "verl.utils.tensordict_utils": types.ModuleType("verl.utils.tensordict_utils"),
        "verl.utils.device": types.ModuleType("verl.utils.device"),
    }
    if importlib.util.find_spec("torch") is None:
        stubs["torch"] = types.ModuleType("torch")
        stubs["torch.distributed"] = types.ModuleType("torch.distributed")
        stubs["torch"].distributed = stubs["torch.distributed"]
        stubs["torch"].Tensor = object
    stubs["verl.protocol"].DataProto = object
    stubs["verl.utils.device"].get_device_name = lambda: "cpu"
    stubs["verl.utils"].tensordict_utils = stubs["verl.utils.tensordict_utils"]
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        mod_spec = importlib.util.spec_from_file_location("verl_seqlen_balancing", path)
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    try:
        from importlib.metadata import version

        module.VERSION = version("verl")
    except Exception:  # noqa: BLE001
        module.VERSION = "?"
    return module
