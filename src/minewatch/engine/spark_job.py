"""The application file ``spark-submit`` runs: the MineWatch command line, inside the Spark
application that ``spark-submit`` starts (its master, deploy mode and settings are used)::

    spark-submit --master yarn --deploy-mode cluster \\
        --archives minewatch-spark-env.tar.gz#env \\
        --conf spark.pyspark.python=./env/bin/python \\
        "$(python -c 'import minewatch.engine.spark_job as j; print(j.__file__)')" \\
        scan meters --engine spark --readings hdfs:///grid/load/2021-09 \\
        --customers hdfs:///grid/archive --weather hdfs:///grid/weather.csv \\
        --out hdfs:///minewatch/findings/2021-09

See ``docs/spark.md``.
"""

from __future__ import annotations

import sys

from minewatch.cli.app import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
