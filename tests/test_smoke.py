from tools.mock_engine import Evaluation


def test_homelab_stack_evaluates(homelab: Evaluation) -> None:
    assert homelab.outputs["istioVersion"] == "1.28.2"
