package io.ferryhub.bench.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.util.Locale;

/** Percentiles of a latency distribution, in milliseconds. */
public record LatencySummary(long count, int samplesKept, double p50Ms, double p90Ms, double p99Ms, double p999Ms,
                             double maxMs, double meanMs) {
    public ObjectNode toJson() {
        ObjectNode node = Json.object();
        node.put("count", count);
        node.put("samplesKept", samplesKept);
        node.put("p50Ms", round(p50Ms));
        node.put("p90Ms", round(p90Ms));
        node.put("p99Ms", round(p99Ms));
        node.put("p999Ms", round(p999Ms));
        node.put("maxMs", round(maxMs));
        node.put("meanMs", round(meanMs));
        return node;
    }

    static double round(double value) {
        return Double.isNaN(value) ? value : Math.round(value * 1000.0) / 1000.0;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)", p50Ms, p99Ms, maxMs, count);
    }
}
