"""Graphs for the journey tests: small, valid, easy to vary."""


def node(nid: str, kind: str, **config) -> dict:
    return {"id": nid, "kind": kind, "config": config, "x": 0, "y": 0}


def edge(source: str, target: str, port: str = "out") -> dict:
    return {"source": source, "port": port, "target": target}


def line(*nodes: dict) -> dict:
    """Nodes one after another (each 'out' to the next), ending in an end node if the last is not one."""
    nodes = list(nodes)
    if nodes[-1]["kind"] != "end":
        nodes.append(node("end", "end"))
    edges = [edge(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:])]
    return {"nodes": nodes, "edges": edges}


def api_entry(**config) -> dict:
    return node("entry", "entry", trigger="api", reentry="never", **config)


def make_tag(chain, code: str = "vip"):
    from yundian.cdp import tags

    group = tags.tag_group_create(actor=chain.admin, name=f"组{code}", code=f"g-{code}")
    return tags.tag_create(actor=chain.admin, group_id=group.id, name=f"标签{code}", code=code)
