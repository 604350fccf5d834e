package io.ferryhub.hub.service.twin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import org.junit.jupiter.api.Test;

class TwinDocumentsTest {
    private static final ObjectNode T1 = TwinDocuments.stamp("2030-01-01T00:00:00Z", 2L);
    private static final ObjectNode T2 = TwinDocuments.stamp("2030-01-02T00:00:00Z", 3L);

    private static ObjectNode obj(String json) {
        return (ObjectNode) Json.parse(json);
    }

    @Test
    void mergeSetsValuesRecursivelyAndNullDeletes() {
        ObjectNode data = obj("{\"a\":1,\"n\":{\"x\":1,\"y\":2},\"gone\":true}");
        ObjectNode meta = obj("{}");
        TwinDocuments.merge(data, meta, obj("{\"a\":2,\"n\":{\"y\":null,\"z\":3},\"gone\":null,\"new\":\"v\"}"), T1);
        assertEquals(obj("{\"a\":2,\"n\":{\"x\":1,\"z\":3},\"new\":\"v\"}"), data);
        assertEquals("2030-01-01T00:00:00Z", meta.at("/n/z/$lastUpdated").asText());
        assertEquals(2, meta.at("/a/$lastUpdatedVersion").asLong());
        assertFalse(meta.has("gone"));
        assertEquals("2030-01-01T00:00:00Z", meta.get("$lastUpdated").asText(), "the object itself is stamped");
    }

    @Test
    void anObjectReplacesAScalarAndOnlyTouchedKeysAreRestamped() {
        ObjectNode data = obj("{}");
        ObjectNode meta = obj("{}");
        TwinDocuments.merge(data, meta, obj("{\"a\":1,\"b\":2}"), T1);
        TwinDocuments.merge(data, meta, obj("{\"a\":{\"c\":true}}"), T2);
        assertEquals(obj("{\"a\":{\"c\":true},\"b\":2}"), data);
        assertEquals("2030-01-01T00:00:00Z", meta.at("/b/$lastUpdated").asText());
        assertEquals("2030-01-02T00:00:00Z", meta.at("/a/c/$lastUpdated").asText());
    }

    @Test
    void replaceDropsWhatTheNewContentLacks() {
        ObjectNode data = obj("{\"old\":1}");
        ObjectNode meta = obj("{\"old\":{}}");
        TwinDocuments.replace(data, meta, obj("{\"new\":2,\"skip\":null}"), T1);
        assertEquals(obj("{\"new\":2}"), data);
        assertFalse(meta.has("old"));
    }

    @Test
    void renderAddsMetadataAndVersionWithoutSharingState() {
        ObjectNode data = obj("{\"a\":1}");
        ObjectNode meta = obj("{\"$lastUpdated\":\"t\"}");
        ObjectNode out = TwinDocuments.render(data, meta, 7);
        assertEquals(7, out.get("$version").asLong());
        assertEquals("t", out.at("/$metadata/$lastUpdated").asText());
        out.put("a", 2);
        assertEquals(1, data.get("a").asInt());
    }

    @Test
    void readOnlyFieldsAreDroppedFromPatchesAndStampsMayOmitTheVersion() {
        assertEquals(obj("{\"a\":1}"), TwinDocuments.withoutReadOnly(obj("{\"a\":1,\"$version\":4,\"$metadata\":{}}")));
        assertEquals(obj("{\"$lastUpdated\":\"t\"}"), TwinDocuments.stamp("t", null));
    }
}
