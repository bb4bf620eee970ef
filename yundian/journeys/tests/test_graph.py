"""journeys.graph.validate: the rules a graph keeps before it may be published."""
import pytest

from yundian.journeys import graph

from .factories import api_entry, edge, line, node


def codes(issues):
    return sorted((i["node"], i["code"]) for i in issues)


@pytest.mark.once
def test_a_line_from_entry_through_wait_to_end_is_valid():
    g = line(api_entry(), node("w", "wait", mode="duration", amount=2, unit="hours"), node("p", "points", points=10))
    assert graph.validate(g) == []


@pytest.mark.once
def test_no_entry_or_two_entries_is_reported_once_for_the_graph():
    assert ("", "entry_count") in codes(graph.validate(line(node("p", "points", points=1))))
    two = line(api_entry(), node("end", "end"))
    two["nodes"].append(node("e2", "entry", trigger="api"))
    two["edges"].append(edge("e2", "end"))
    assert codes(graph.validate(two)).count(("", "entry_count")) == 1


@pytest.mark.once
def test_an_unconnected_port_and_a_dangling_edge_are_reported():
    g = {"nodes": [api_entry(), node("b", "branch", test="order"), node("end", "end")],
         "edges": [edge("entry", "b"), edge("b", "end", "yes"), edge("b", "ghost", "no")]}
    assert codes(graph.validate(g)) == [("b", "edge_dangling"), ("b", "port_unconnected")]


@pytest.mark.once
def test_a_port_the_kind_does_not_have_and_two_edges_from_one_port_are_reported():
    g = {"nodes": [api_entry(), node("t", "points", points=5), node("end", "end")],
         "edges": [edge("entry", "t"), edge("entry", "end"), edge("t", "end", "yes"), edge("t", "end")]}
    assert codes(graph.validate(g)) == [("entry", "port_multiple"), ("t", "edge_port_unknown")]


@pytest.mark.once
def test_a_loop_without_a_wait_is_refused_and_with_a_wait_is_allowed():
    looped = {"nodes": [api_entry(), node("b", "branch", test="order"), node("p", "points", points=1),
                        node("end", "end")],
              "edges": [edge("entry", "b"), edge("b", "end", "yes"), edge("b", "p", "no"), edge("p", "b")]}
    assert codes(graph.validate(looped)) == [("b", "cycle_without_wait"), ("p", "cycle_without_wait")]
    looped["nodes"].append(node("w", "wait", mode="duration", amount=1, unit="days"))
    looped["edges"][-1] = edge("p", "w")
    looped["edges"].append(edge("w", "b"))
    assert graph.validate(looped) == []


@pytest.mark.once
def test_split_ports_follow_its_arms_and_holdout():
    split = node("s", "split", weights=[50, 30, 20], holdout=10)
    assert graph.ports(split) == ("a", "b", "c", "holdout")
    assert graph.ports(node("s", "split", weights=[1, 1], holdout=0)) == ("a", "b")
    g = {"nodes": [api_entry(), split, node("end", "end")],
         "edges": [edge("entry", "s")] + [edge("s", "end", p) for p in ("a", "b", "c")]}
    assert codes(graph.validate(g)) == [("s", "port_unconnected")]


@pytest.mark.once
def test_bad_configs_are_reported_per_node():
    g = line(node("entry", "entry", trigger="cart_abandoned", hours=0),
             node("w", "wait", mode="time_of_day", time="25:00"),
             node("s", "message", channel="fax", template_id=3),
             node("h", "webhook", url="ftp://x", timeout=60),
             node("g", "guide_task", title=""))
    assert codes(graph.validate(g)) == [("entry", "entry_hours"), ("g", "guide_task_title"), ("h", "webhook_timeout"),
                                        ("h", "webhook_url"), ("s", "message_channel"), ("w", "wait_time")]


@pytest.mark.once
def test_unreachable_steps_and_edges_into_the_entry_are_reported():
    g = line(api_entry(), node("p", "points", points=1))
    g["nodes"].append(node("lost", "end"))
    g["edges"].append(edge("p", "entry"))
    g["edges"] = [e for e in g["edges"] if not (e["source"] == "p" and e["target"] == "end")]
    assert codes(graph.validate(g)) == [("end", "node_unreachable"), ("entry", "cycle_without_wait"),
                                        ("entry", "entry_incoming"), ("lost", "node_unreachable"),
                                        ("p", "cycle_without_wait")]


@pytest.mark.once
def test_garbage_is_reported_not_raised():
    assert codes(graph.validate("nope")) == [("", "graph_invalid")]
    assert codes(graph.validate({"nodes": [{"id": 5}], "edges": [None]})) == [("", "edge_invalid"), ("", "entry_count"),
                                                                              ("", "node_invalid")]
