from rlmllm_graph.cli import cli

cli(prog_name="rlmllm-graph")
