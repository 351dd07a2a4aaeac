"""No module of simkafka imports a module that imports it back, directly or around a circle.

A circle means its modules can only be read, tested and changed together. grimp reads
every import statement, including those under ``if TYPE_CHECKING:`` and inside functions:
a type-only import still ties two modules together, so it counts here too.
"""

from __future__ import annotations

import grimp
import networkx as nx


def import_graph(package: str) -> nx.DiGraph:
    """Modules of ``package`` and the imports between them (external packages left out)."""
    # type-only imports are kept (grimp's default, stated so it cannot change unseen);
    # no cache: a stale one could hide a new import
    modules = grimp.build_graph(package, exclude_type_checking_imports=False, cache_dir=None)
    graph = nx.DiGraph()
    for module in modules.modules:
        graph.add_node(module)
        for imported in modules.find_modules_directly_imported_by(module):
            if imported == package or imported.startswith(package + "."):
                graph.add_edge(module, imported)
    return graph


def test_no_import_cycles() -> None:
    graph = import_graph("simkafka")
    circles = sorted(
        sorted(component)
        for component in nx.strongly_connected_components(graph)
        if len(component) > 1
    )
    assert not circles, "modules that import each other (directly or around a circle):\n" + (
        "\n".join(
            "  " + ", ".join(circle) + "\n    via " + _one_cycle(graph, circle)
            for circle in circles
        )
    )


def _one_cycle(graph: nx.DiGraph, members: list[str]) -> str:
    """One import path around the circle, so the failure shows where to cut it."""
    cycle = nx.find_cycle(graph.subgraph(members))
    return " -> ".join([cycle[0][0], *(target for _, target in cycle)])
