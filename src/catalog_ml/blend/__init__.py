"""Blending approach outputs: blenders, the nested (honest) evaluation and the blend report, for every task; active
learning over run outputs."""
