"""The HMM pictures and the Baum-Welch widget draw what emlab.hmm computes."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from emlab import data, em, hmm
from emlab.plots import trellis
from emlab.widgets import BaumWelchStepper, baum_welch_stepper


def test_trellis_draws_one_node_per_state_and_position_with_the_given_values():
    m, x = data.eisner_initial(), data.eisner_data()[:4]
    alpha = hmm.forward_table(m, x)
    ax = trellis.draw_trellis(m, x, state_names=data.EISNER_STATE_NAMES, symbol_names=data.SYMBOL_NAMES,
                              values=alpha, path=hmm.viterbi(m, x)[0])
    texts = [t.get_text() for t in ax.texts]
    assert "START" in texts and "STOP" in texts
    assert sum("α=" in t for t in texts) == 4 * 2
    assert f"C\nα={alpha[2, 0]:.3g}" in texts
    # edges: START→2, 3 steps × 4, 2→STOP
    assert len(ax.lines) == 2 + 3 * 4 + 2
    plt.close("all")


def test_posterior_plots_and_bad_kind():
    gamma, _ = hmm.posteriors(data.eisner_initial(), data.eisner_data())
    ax = trellis.plot_posteriors(gamma, kind="line", observations=data.eisner_data())
    np.testing.assert_allclose(ax.lines[1].get_ydata(), gamma[:, 1])
    ax = trellis.plot_posteriors(gamma, kind="heatmap")
    np.testing.assert_allclose(ax.images[0].get_array(), gamma.T)
    with pytest.raises(ValueError, match="kind must be"):
        trellis.plot_posteriors(gamma, kind="pie")
    plt.close("all")


@pytest.mark.filterwarnings("ignore::emlab.em.NotConvergedWarning")
def test_stepper_follows_em_fit_and_the_widget_buttons_step_and_reset():
    m, x = data.eisner_initial(), data.eisner_data()
    ref = em.fit(m, [x], max_iter=3, tol=0)
    stepper = BaumWelchStepper(m, x)
    for _ in range(3):
        stepper.step()
    np.testing.assert_allclose(stepper.history, ref.log_likelihoods, rtol=1e-12)
    widget, s = baum_welch_stepper(m, x)
    step_button, reset_button = widget.children[0].children
    step_button.click()
    step_button.click()
    assert len(s.history) == 3 and s.history[2] > s.history[1] > s.history[0]
    reset_button.click()
    assert len(s.history) == 1
    plt.close("all")


def test_stepping_the_stepper_from_code_redraws_the_widget(monkeypatch):
    """A notebook that calls stepper.step() must see the widget follow, not jump on the next click."""
    widget, stepper = baum_welch_stepper(data.eisner_initial(), data.eisner_data())
    drawn = []
    render = stepper.render
    monkeypatch.setattr(stepper, "render", lambda: drawn.append(len(stepper.history)) or render())
    stepper.step()
    stepper.step()
    stepper.reset()
    assert drawn == [2, 3, 1]
    plt.close("all")
