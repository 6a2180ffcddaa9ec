-m
m_run_module
arg1
arg 2
