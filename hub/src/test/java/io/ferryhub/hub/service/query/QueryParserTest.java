package io.ferryhub.hub.service.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.query.QueryAst.Binary;
import io.ferryhub.hub.service.query.QueryAst.Literal;
import io.ferryhub.hub.service.query.QueryAst.Path;
import io.ferryhub.hub.service.query.QueryAst.Query;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryParserTest {

    @Test
    void selectStarFromDevicesHasNoProjectionsAndNoWhere() {
        Query q = QueryParser.parse("SELECT * FROM devices");
        assertTrue(q.projections().isEmpty());
        assertEquals(QueryAst.Collection.DEVICES, q.from());
        assertNull(q.where());
        assertNull(q.top());
        assertTrue(q.groupBy().isEmpty());
        assertTrue(!q.isAggregate());
    }

    @Test
    void keywordsAreCaseInsensitiveAndModulesAreACollection() {
        Query q = QueryParser.parse("select top 5 * from devices.modules where moduleId = 'm1'");
        assertEquals(5, q.top());
        assertEquals(QueryAst.Collection.MODULES, q.from());
        Binary where = assertInstanceOf(Binary.class, q.where());
        assertEquals("=", where.op());
        assertEquals(List.of("moduleId"), assertInstanceOf(Path.class, where.left()).segments());
        assertEquals("m1", assertInstanceOf(Literal.class, where.right()).value().asText());
    }

    @Test
    void andBindsTighterThanOr() {
        Binary or = assertInstanceOf(Binary.class,
                QueryParser.parse("SELECT * FROM devices WHERE a = 1 OR b = 2 AND c = 3").where());
        assertEquals("OR", or.op().toUpperCase());
        assertEquals("AND", assertInstanceOf(Binary.class, or.right()).op().toUpperCase());
    }

    @Test
    void projectionsTakeTheirAliasFromAsOrTheLastPathSegment() {
        Query q = QueryParser.parse("SELECT deviceId, properties.reported.temp AS t, COUNT() FROM devices");
        assertEquals("deviceId", q.projections().get(0).alias());
        assertEquals("t", q.projections().get(1).alias());
        assertEquals("count", q.projections().get(2).alias());
        assertTrue(q.isAggregate());
    }

    @Test
    void bracketedSegmentsAndEscapedIdentifiersArePathSegments() {
        Path p = assertInstanceOf(Path.class, assertInstanceOf(Binary.class,
                QueryParser.parse("SELECT * FROM devices WHERE tags['my key'].[[select]] = 1").where()).left());
        assertEquals(List.of("tags", "my key", "select"), p.segments());
    }

    @Test
    void numbersKeepTheirKind() {
        assertEquals(16L, literal("0x10").longValue());
        assertTrue(literal("7").isIntegralNumber());
        assertEquals(2500.0, literal("2.5e3").doubleValue());
        // a literal beyond a long becomes a double rather than failing
        assertEquals(9.223372036854775808E18, literal("9223372036854775808").doubleValue());
    }

    @Test
    void aHexadecimalNumberBeyondALongIsADoubleNotAServerError() {
        // found by QueryFuzzTest: this threw NumberFormatException, which the REST router answers with 500
        assertEquals(0x1p64, literal("0x10000000000000000").doubleValue());
        assertTrue(literal("0x19223372036854775808080").doubleValue() > 1e25);
    }

    @Test
    void syntaxErrorsAreArgumentInvalidWithThePosition() {
        for (String bad : new String[] {"", "   ", "SELECT", "SELECT * FROM", "SELECT * FROM things",
                "SELECT * FROM devices WHERE", "SELECT * FROM devices WHERE a = ", "SELECT TOP x * FROM devices",
                "SELECT * FROM devices WHERE a = 'unterminated", "SELECT * FROM devices extra",
                "SELECT * FROM devices WHERE a IN (1, 2)", "SELECT * FROM devices WHERE 0x = 1"}) {
            HubException e = assertThrows(HubException.class, () -> QueryParser.parse(bad), bad);
            assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode(), bad);
        }
        HubException e = assertThrows(HubException.class,
                () -> QueryParser.parse("SELECT * FROM devices WHERE a = = 1"));
        assertTrue(e.getMessage().contains("position 33"), e.getMessage());
    }

    private static com.fasterxml.jackson.databind.JsonNode literal(String number) {
        Binary b = assertInstanceOf(Binary.class, QueryParser.parse("SELECT * FROM devices WHERE a = " + number)
                .where());
        return assertInstanceOf(Literal.class, b.right()).value();
    }
}
