"""D:G schedules and the pre-training phase (tpgan_tf/models/drgan/schedule.py, drgan spec
4.1, 4.2), by iteration."""
import dataclasses

from tpgan_tf.core.config import get_config
from tpgan_tf.models.drgan import schedule


def _train(**changes):
    return dataclasses.replace(get_config("paper", task="drgan").train, **changes)


def test_alternate_is_one_d_then_one_g():
    t = _train(schedule="alternate")
    for it in range(5):
        assert schedule.plan(t, it) == schedule.Plan(d_step=True, g_steps=1)


def test_official_is_5_d_to_11_g_per_10_iterations():
    t = _train(schedule="official")
    plans = [schedule.plan(t, it) for it in range(20)]
    assert [p.d_step for p in plans[:4]] == [True, False, True, False]
    assert [p.g_steps for p in plans[:12]] == [2] + [1] * 9 + [2, 1]
    assert sum(p.d_step for p in plans) == 10 and sum(p.g_steps for p in plans) == 22


def test_adaptive_switches_to_more_g_steps_when_d_is_strong():
    t = _train(schedule="adaptive", adaptive_accuracy=0.9, adaptive_g_steps=4)
    assert schedule.plan(t, 7).g_steps is None  # decided after the D step
    assert schedule.adaptive_g_steps(t, 0.89) == 1
    assert schedule.adaptive_g_steps(t, 0.9) == 4
    assert schedule.adaptive_g_steps(t, 1.0) == 4


def test_pretraining_comes_first_then_the_trunk_is_copied_once():
    t = _train(schedule="official", pretrain_d=True, pretrain_iterations=3)
    plans = [schedule.plan(t, it) for it in range(6)]
    assert [p.pretrain for p in plans] == [True, True, True, False, False, False]
    assert [p.copy_trunk for p in plans] == [False, False, False, True, False, False]
    assert plans[0].g_steps == 0 and not plans[0].d_step
    # The GAN schedule counts from the first GAN iteration: official's "even" is iteration 3.
    assert [p.d_step for p in plans[3:]] == [True, False, True]
    assert plans[3].g_steps == 2
    assert schedule.gan_start(t) == 3 and schedule.gan_start(_train()) == 0
