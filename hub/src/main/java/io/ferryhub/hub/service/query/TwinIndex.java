package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.hub.service.twin.TwinChangeListener;
import io.ferryhub.hub.service.twin.TwinRecord;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An in-memory equality index over every primitive value the twins own (tags, desired and reported properties):
 * lower-cased path → value → twins holding it. It answers "which twins may match {@code path = value}" without
 * reading any twin; the query still evaluates its WHERE on each candidate, so the index only has to be a superset
 * (a twin in the middle of a change, or of a deleted generation, is filtered out there). Built from the store at
 * start-up and kept current by twin change events.
 */
final class TwinIndex implements TwinChangeListener {
    private record Posting(String path, Object value) {
    }

    private final Map<String, Map<Object, Set<TwinRef>>> postings = new ConcurrentHashMap<>();
    private final ConcurrentSkipListMap<TwinRef, List<Posting>> byTwin = new ConcurrentSkipListMap<>();

    @Override
    public void twinChanged(String deviceId, String moduleId, TwinRecord twin) {
        if (moduleId == null && twin == null) {
            // a deleted device takes its modules' twins along
            List.copyOf(byTwin.subMap(new TwinRef(deviceId, null), new TwinRef(deviceId + '\0', null)).keySet())
                    .forEach(r -> put(r, null));
            return;
        }
        put(new TwinRef(deviceId, moduleId), twin);
    }

    void put(TwinRef ref, TwinRecord twin) {
        List<Posting> old = byTwin.remove(ref);
        if (old != null) {
            for (Posting p : old) {
                Map<Object, Set<TwinRef>> values = postings.get(p.path());
                if (values != null) {
                    // atomic per value, so a concurrent add never lands in a set that is being dropped
                    values.computeIfPresent(p.value(), (v, refs) -> {
                        refs.remove(ref);
                        return refs.isEmpty() ? null : refs;
                    });
                }
            }
        }
        if (twin == null) {
            return;
        }
        List<Posting> added = new ArrayList<>();
        collect("tags", twin.tags(), added);
        collect("properties.desired", twin.desired(), added);
        collect("properties.reported", twin.reported(), added);
        for (Posting p : added) {
            postings.computeIfAbsent(p.path(), k -> new ConcurrentHashMap<>()).compute(p.value(), (v, refs) -> {
                Set<TwinRef> set = refs != null ? refs : ConcurrentHashMap.newKeySet();
                set.add(ref);
                return set;
            });
        }
        if (!added.isEmpty()) {
            byTwin.put(ref, added);
        }
    }

    /** The twins whose value at {@code path} (see {@link TwinPaths#indexKey}) equals {@code value}. */
    Set<TwinRef> lookup(String path, JsonNode value) {
        Object key = keyOf(value);
        if (key == null) {
            return Set.of();
        }
        Map<Object, Set<TwinRef>> values = postings.get(path);
        if (values == null) {
            return Set.of();
        }
        Set<TwinRef> refs = values.get(key);
        return refs == null ? Set.of() : refs;
    }

    /** Whether {@link #lookup} can answer for this literal (primitives only). */
    static boolean indexableValue(JsonNode value) {
        return keyOf(value) != null;
    }

    private static void collect(String prefix, JsonNode node, List<Posting> out) {
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            String path = prefix + "." + f.getKey().toLowerCase(Locale.ROOT);
            JsonNode v = f.getValue();
            if (v.isObject()) {
                collect(path, v, out);
            } else {
                Object key = keyOf(v);
                if (key != null) {
                    out.add(new Posting(path, key));
                }
            }
        }
    }

    /** Numbers compare by value (1 = 1.0), as the evaluator compares them. */
    private static Object keyOf(JsonNode v) {
        if (v == null) {
            return null;
        }
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        return null;
    }
}
