"""rolebot: settles "who owns this?" between Product, Program, Project and Technical Program
Managers."""

__version__ = "0.1.0"
