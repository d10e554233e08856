import numpy as np
import pytest

from station.geometry import DEFAULT_LAYOUT, cop_from_forces, forces_from_cop

POS = DEFAULT_LAYOUT.positions


def test_cop_hand_computed_cases():
    # All weight on front_right -> COP at that cell.
    total, cop = cop_from_forces(np.array([0.0, 100.0, 0.0, 0.0]), POS)
    assert total == 100.0
    assert cop.tolist() == [200.0, 150.0]
    # Equal load -> centre.
    _, cop = cop_from_forces(np.array([25.0, 25.0, 25.0, 25.0]), POS)
    assert cop.tolist() == [0.0, 0.0]
    # Right cells carry 3/4 of the load: x = (W/2)(75-25)/100 = 100 mm; front/back equal.
    _, cop = cop_from_forces(np.array([12.5, 37.5, 12.5, 37.5]), POS)
    assert cop == pytest.approx([100.0, 0.0])
    # Front carries 60 %: y = (L/2)(60-40)/100 = 30 mm.
    _, cop = cop_from_forces(np.array([30.0, 30.0, 20.0, 20.0]), POS)
    assert cop == pytest.approx([0.0, 30.0])


def test_cop_undefined_below_min_load():
    total, cop = cop_from_forces(np.array([[5.0, 5.0, 5.0, 5.0], [300, 300, 300, 300]]), POS, 50.0)
    assert np.isnan(cop[0]).all()
    assert cop[1] == pytest.approx([0.0, 0.0])
    assert total.tolist() == [20.0, 1200.0]


def test_forces_from_cop_round_trip():
    rng = np.random.default_rng(1)
    cop = np.column_stack([rng.uniform(-200, 200, 500), rng.uniform(-150, 150, 500)])
    total = rng.uniform(100, 1200, 500)
    forces = forces_from_cop(total, cop, POS)
    assert (forces >= -1e-9).all()
    back_total, back_cop = cop_from_forces(forces, POS)
    np.testing.assert_allclose(back_total, total)
    np.testing.assert_allclose(back_cop, cop, atol=1e-9)
