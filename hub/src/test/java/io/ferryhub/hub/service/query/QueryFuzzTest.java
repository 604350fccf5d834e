package io.ferryhub.hub.service.query;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.testsupport.fuzz.Fuzzer;
import io.ferryhub.hub.service.query.QueryAst.Projection;
import io.ferryhub.hub.service.query.QueryAst.Query;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the query language: lexer, parser and evaluator. A query either parses, and then evaluates against sample
 * twins without throwing, or is refused with IoT Hub's 400 ArgumentInvalid ({@link HubException}); nothing else.
 */
class QueryFuzzTest {
    private static final JsonNode[] TWINS = {
        Json.parse("{\"deviceId\":\"dev-1\",\"moduleId\":\"m1\",\"status\":\"enabled\",\"$version\":3,"
                + "\"tags\":{\"location\":{\"region\":\"US\"},\"name\":\"abc\",\"weird key\":{\"x\":1},\"t\":\"abc\"},"
                + "\"properties\":{\"desired\":{\"a\":2},\"reported\":{\"temperature\":51,\"x\":[1,{\"y\":null}],"
                + "\"connectivity\":\"wifi\",\"telemetryConfig\":{\"status\":\"ok\"}}}}"),
        Json.parse("{\"deviceId\":\"d\",\"tags\":{},\"properties\":{\"desired\":{},\"reported\":{}}}"),
    };

    @Test
    void queriesParseAndEvaluateOrFailWithArgumentInvalid() throws Exception {
        long ran = Fuzzer.forCorpus("query")
                .dictionary("SELECT ", " FROM ", " devices", "devices.modules", " WHERE ", " GROUP BY ", " AS ",
                        " AND ", " OR ", " NOT ", " IN ", " NIN ", " TOP ", "true", "false", "null", "undefined",
                        "'", "\"", "\\u00", "\\", "[", "]", "(", ")", ".", ",", "*", "0x", "1e400", "-",
                        "9223372036854775808", "IS_DEFINED(", "STARTSWITH(", "LENGTH(", "ABS(", "COUNT()", "SUM(",
                        "[[", "]]", "$", "tags.", "properties.reported.",
                        "((((((((((((((((((((((((((((((((", "NOT NOT NOT NOT NOT NOT NOT NOT ", "- - - - - - - - ")
                .run(QueryFuzzTest::parseAndEvaluate);
        assertTrue(ran > 12);
    }

    static void parseAndEvaluate(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        Query query;
        try {
            query = QueryParser.parse(text);
        } catch (HubException e) {
            if (e.errorCode() != HubErrorCode.ArgumentInvalid) {
                throw e;
            }
            return;
        }
        for (JsonNode twin : TWINS) {
            QueryEvaluator.matches(query.where(), twin, query.from());
            for (Projection p : query.projections()) {
                if (!(p.expr() instanceof QueryAst.Aggregate)) {
                    QueryEvaluator.eval(p.expr(), twin, query.from());
                }
            }
        }
    }
}
