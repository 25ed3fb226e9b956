/**
 * The server's Prometheus metrics ({@link dev.codebook.server.metrics.ServerMetrics}): calls by
 * method and status code, their latency histogram, queries searched per collection, the search
 * queue's depth and active searches, live vectors per collection, running jobs, and the JVM's
 * own. Each server has a registry of its own (two servers in one JVM, as in tests, do not share
 * counters), served over HTTP on {@code --metrics-port} when one is set.
 *
 * <p>Threading: counters and gauges are updated from any thread; the HTTP endpoint runs on its
 * own thread.
 */
package dev.codebook.server.metrics;
