from yundian.org import selectors


def test_region_manager_sees_exactly_their_subtree(chain):
    codes = set(selectors.org_node_list(actor=chain.east_manager).values_list("code", flat=True))
    assert codes == {"acme-E", "acme-D1", "acme-A"}
