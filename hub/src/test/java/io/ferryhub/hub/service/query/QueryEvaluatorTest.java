package io.ferryhub.hub.service.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.query.QueryAst.Query;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryEvaluatorTest {
    private static final JsonNode TWIN = Json.parse("{\"deviceId\":\"dev-1\",\"status\":\"enabled\",\"$version\":4,"
            + "\"tags\":{\"region\":\"EU\",\"floor\":3,\"flags\":{\"on\":true},\"Name\":\"Pump\"},"
            + "\"properties\":{\"desired\":{\"t\":20},\"reported\":{\"t\":21.5,\"fw\":null}}}");

    private static boolean where(String condition) {
        Query q = QueryParser.parse("SELECT * FROM devices WHERE " + condition);
        return QueryEvaluator.matches(q.where(), TWIN, q.from());
    }

    private static JsonNode eval(String expression) {
        Query q = QueryParser.parse("SELECT " + expression + " AS v FROM devices");
        return QueryEvaluator.eval(q.projections().get(0).expr(), TWIN, q.from());
    }

    @Test
    void comparisonsOnPathsAndLiterals() {
        assertTrue(where("tags.region = 'EU'"));
        assertFalse(where("tags.region = 'eu'"), "string equality is case-sensitive");
        assertTrue(where("tags.floor > 2 AND tags.floor <= 3"));
        assertTrue(where("properties.reported.t > properties.desired.t"));
        assertTrue(where("tags.flags.on = true"));
        assertTrue(where("$version != 5"));
        assertTrue(where("tags.floor IN [1, 3]") && where("tags.floor NIN [1, 2]") && where("tags.floor NOT IN [4]"));
    }

    @Test
    void undefinedIsNeitherTrueNorFalse() {
        assertFalse(where("tags.missing = 1"));
        assertFalse(where("NOT (tags.missing = 1)"), "NOT undefined is undefined");
        assertTrue(where("tags.missing = 1 OR tags.floor = 3"));
        assertFalse(where("tags.missing = 1 AND tags.floor = 3"));
        assertFalse(where("tags.floor = 'three'"), "comparing a number with a string is undefined");
        assertNull(eval("tags.missing"));
    }

    @Test
    void functionsAndArithmetic() {
        assertTrue(where("IS_DEFINED(tags.region) AND NOT IS_DEFINED(tags.nope)"));
        assertTrue(where("IS_NULL(properties.reported.fw)"));
        assertTrue(where("STARTSWITH(deviceId, 'dev-') AND ENDSWITH(deviceId, '1') AND CONTAINS(deviceId, 'v-')"));
        assertEquals("eu", eval("LOWER(tags.region)").asText());
        assertEquals(5, eval("LENGTH(deviceId)").asInt());
        assertEquals(7.0, eval("tags.floor * 2 + 1").asDouble());
        assertEquals(-3.0, eval("-tags.floor").asDouble());
        assertEquals(1.0, eval("tags.floor % 2").asDouble());
    }

    @Test
    void theLastSegmentMatchesIgnoringCase() {
        assertEquals("Pump", QueryEvaluator.resolve(TWIN, List.of("tags", "name")).asText());
        assertEquals("Pump", QueryEvaluator.resolve(TWIN, List.of("TAGS", "Name")).asText());
        assertNull(QueryEvaluator.resolve(TWIN, List.of("tags", "region", "deeper")));
    }
}
