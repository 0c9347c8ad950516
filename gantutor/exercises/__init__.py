"""Check functions for the exercises: a precise, friendly verdict for the student.

Every ``check_*`` function prints what is right and what is wrong in plain words and
returns ``True`` only when everything passes, so a notebook cell can also ``assert`` it.
One module per part of the book; all of them are importable from here:

- :mod:`gantutor.exercises.game` -- chapters 1 and 2 (the objective, the toy GAN)
- :mod:`gantutor.exercises.networks` -- chapters 3 and 4 (the generator, the discriminator)
- :mod:`gantutor.exercises.training` -- chapter 5 (a training step)
- :mod:`gantutor.exercises.measuring` -- chapters 6 and 7 (distances, transfer strategies)
- :mod:`gantutor.exercises.crossing` -- chapter 8 (shared layers, InfoGAN's information term, the cycle loss)
"""
from __future__ import annotations

from . import crossing, game, measuring, networks, training
from .verdict import Verdict

_MODULES = (game, networks, training, measuring, crossing)

for _module in _MODULES:
    globals().update({name: getattr(_module, name) for name in dir(_module) if name.startswith("check_")})

__all__ = [Verdict.__name__] + sorted(name for name in dict(globals()) if name.startswith("check_"))
