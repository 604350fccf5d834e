package io.ferryhub.hub.service.twin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * IoT Hub's merge semantics for twin sections and their {@code $metadata} trees. A section's data and its
 * metadata are kept as two parallel trees: every key of the data has a metadata node with {@code $lastUpdated}
 * (and {@code $lastUpdatedVersion} for desired properties), objects' metadata nodes hold their children's, and
 * the section root has its own; {@link #render} joins them into the shape the SDKs read.
 */
public final class TwinDocuments {
    public static final String METADATA = "$metadata";
    public static final String VERSION = "$version";
    public static final String LAST_UPDATED = "$lastUpdated";
    public static final String LAST_UPDATED_VERSION = "$lastUpdatedVersion";

    private TwinDocuments() {
    }

    /**
     * Merges {@code patch} into {@code data}: keys are added or replaced, {@code null} deletes a key, objects merge
     * recursively. Every touched node's metadata (and the root's) gets {@code stamp}'s fields.
     */
    public static void merge(ObjectNode data, ObjectNode metadata, ObjectNode patch, ObjectNode stamp) {
        Iterator<Map.Entry<String, JsonNode>> fields = patch.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            JsonNode value = field.getValue();
            if (value.isNull()) {
                data.remove(key);
                metadata.remove(key);
            } else if (value.isObject()) {
                if (!(data.get(key) instanceof ObjectNode)) {
                    data.set(key, Json.object());
                    metadata.set(key, Json.object());
                }
                if (!(metadata.get(key) instanceof ObjectNode)) {
                    metadata.set(key, Json.object());
                }
                merge((ObjectNode) data.get(key), (ObjectNode) metadata.get(key), (ObjectNode) value, stamp);
            } else {
                data.set(key, value.deepCopy());
                metadata.set(key, stamp.deepCopy());
            }
        }
        metadata.setAll(stamp.deepCopy());
    }

    /** Replaces a section's whole content; the old metadata goes with it. */
    public static void replace(ObjectNode data, ObjectNode metadata, ObjectNode content, ObjectNode stamp) {
        data.removeAll();
        metadata.removeAll();
        merge(data, metadata, content, stamp);
    }

    /** The section as the SDKs read it: its data, then {@code $metadata} and {@code $version}. */
    public static ObjectNode render(ObjectNode data, ObjectNode metadata, long version) {
        ObjectNode out = data.deepCopy();
        out.set(METADATA, metadata.deepCopy());
        out.put(VERSION, version);
        return out;
    }

    /** A stamp for {@link #merge}: the time, and the desired version when the section is the desired one. */
    public static ObjectNode stamp(String now, Long desiredVersion) {
        ObjectNode stamp = Json.object().put(LAST_UPDATED, now);
        if (desiredVersion != null) {
            stamp.put(LAST_UPDATED_VERSION, desiredVersion);
        }
        return stamp;
    }

    /** A copy of {@code patch} without the read-only fields ({@code $metadata}, {@code $version}) clients echo. */
    public static ObjectNode withoutReadOnly(ObjectNode patch) {
        ObjectNode out = patch.deepCopy();
        List<String> drop = new ArrayList<>();
        out.fieldNames().forEachRemaining(name -> {
            if (name.equals(METADATA) || name.equals(VERSION)) {
                drop.add(name);
            }
        });
        out.remove(drop);
        return out;
    }
}
