"""Approaches: one file each, registered by name with ``@register_approach``, runnable as a script.

``python approaches/<name>.py --dataset <spec> [--set key=value ...]`` runs it through the shared runner; so does
``catalog-ml run <name> --dataset <spec>``.
"""
