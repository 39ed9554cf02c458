"""Learning-rate schedules: pure functions ``schedule(t) -> factor`` and PyTorch-style scheduler objects.

Pure functions (a factor of each group's base rate; pure in ``t``, so resuming needs no state)::

    schedule = Warmup(CosineDecay(total=95), warmup=5)
    for epoch in range(100):
        apply(optimizer, schedule(epoch))      # lr = base_lr * schedule(epoch)

Scheduler objects, as ``torch.optim.lr_scheduler`` has them (same names, arguments and rates)::

    sched = CosineAnnealingLR(optimizer, T_max=100)
    for epoch in range(100):
        ...; optimizer.step(grads)
        sched.step()                            # after the optimizer's step; sched.get_last_lr()

``t`` counts epochs or steps: call per batch for a per-step schedule (one-cycle, cyclic), per epoch otherwise.

=============================  ====================================  ================================
PyTorch scheduler              fastopt scheduler object              pure function (closed form)
=============================  ====================================  ================================
StepLR                         :class:`StepLR`                       :class:`StepDecay`
MultiStepLR                    :class:`MultiStepLR`                  :class:`MultiStepDecay`
ConstantLR                     :class:`ConstantLR`                   :class:`ConstantFactor`
LinearLR                       :class:`LinearLR`                     :class:`LinearFactor`
ExponentialLR                  :class:`ExponentialLR`                :class:`ExponentialDecay`
PolynomialLR                   :class:`PolynomialLR`                 :class:`PolynomialDecay`
CosineAnnealingLR              :class:`CosineAnnealingLR`            :class:`CosineDecay`
CosineAnnealingWarmRestarts    :class:`CosineAnnealingWarmRestarts`  :class:`CosineRestarts`
CyclicLR                       :class:`CyclicLR`                     :class:`Cyclic`
OneCycleLR                     :class:`OneCycleLR`                   :class:`OneCycle`
LambdaLR                       :class:`LambdaLR`                     any callable
MultiplicativeLR               :class:`MultiplicativeLR`             :class:`Multiplicative`
SequentialLR                   :class:`SequentialLR`                 :class:`Sequential`
ChainedScheduler               :class:`ChainedScheduler`             :class:`Product`
ReduceLROnPlateau              :class:`ReduceLROnPlateau`            (stateful: none)
(warm-up)                      ``LambdaLR(opt, Warmup(...))``        :class:`Warmup` (linear, cosine)
(warmup-stable-decay)          ``LambdaLR(opt, WarmupStableDecay)``  :class:`WarmupStableDecay`
=============================  ====================================  ================================
"""
from .compose import (
                    LinearWarmup,
                    Multiplicative,
                    Product,
                    Sequential,
                    Warmup,
                    WarmupStableDecay,
)
from .compose_lr import ChainedScheduler, SequentialLR
from .cycles import Cyclic, OneCycle
from .cyclic_lr import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (
                    Constant,
                    ConstantFactor,
                    CosineDecay,
                    CosineRestarts,
                    ExponentialDecay,
                    LinearFactor,
                    MultiStepDecay,
                    PolynomialDecay,
                    Schedule,
                    StepDecay,
)
from .decay_lr import (
                    ConstantLR,
                    CosineAnnealingLR,
                    ExponentialLR,
                    LambdaLR,
                    LinearLR,
                    MultiplicativeLR,
                    MultiStepLR,
                    PolynomialLR,
                    StepLR,
)
from .named import SCHEDULES, apply, by_name
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler

__all__ = ["Schedule", "LRScheduler",
           # pure functions t -> factor
           "Constant", "StepDecay", "MultiStepDecay", "ConstantFactor", "LinearFactor", "ExponentialDecay",
           "PolynomialDecay", "CosineDecay", "CosineRestarts", "Cyclic", "OneCycle", "Warmup", "LinearWarmup",
           "WarmupStableDecay", "Sequential", "Product", "Multiplicative",
           # scheduler objects with .step()
           "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "LambdaLR", "MultiplicativeLR", "SequentialLR",
           "ChainedScheduler", "ReduceLROnPlateau",
           # the CLI's names
           "SCHEDULES", "by_name", "apply"]
