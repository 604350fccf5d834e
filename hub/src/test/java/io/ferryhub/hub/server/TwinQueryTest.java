package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The query language over a generated fleet of 200 device twins (40 of them with two module twins), through
 * {@code POST /devices/query} with paging. Every expected result is computed here, from the generator's own
 * model with plain Java, never by the hub's evaluator.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwinQueryTest {
    private static final int FLEET = 200;
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static RestClient rest;
    static final List<Dev> fleet = new ArrayList<>();

    /** What the generator gave one device, in plain Java. */
    record Dev(int i, String id, String building, int floor, String env, String owner, String group, int rate,
               String mode, String fw, Double temp, boolean ok, int nestedB, boolean disabled, boolean hasModules) {
        static Dev of(int i) {
            return new Dev(i, String.format("dev-%03d", i), "b" + i % 5, i % 7, i % 3 == 0 ? "prod" : "test",
                    i % 2 == 0 ? "team" + i % 4 : null, i % 10 == 0 ? "g" + i % 3 : null, i % 10,
                    i % 2 == 0 ? "auto" : "manual", "1." + i % 4, i % 9 == 0 ? null : 15.5 + i % 20, i % 4 != 0,
                    i % 3, i % 11 == 0, i % 5 == 0);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        rest = new RestClient(hub);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> work = new ArrayList<>();
        for (int i = 0; i < FLEET; i++) {
            Dev d = Dev.of(i);
            fleet.add(d);
            work.add(pool.submit(() -> {
                create(d);
                return null;
            }));
        }
        for (Future<?> f : work) {
            f.get();
        }
        pool.shutdown();
    }

    private static void create(Dev d) {
        hub.registry().putDevice(d.id(), new Device(d.id(), null, null, d.disabled() ? "disabled" : "enabled", null,
                null, null, false, null, null), null);
        StringBuilder tags = new StringBuilder("{\"building\":\"" + d.building() + "\",\"floor\":" + d.floor()
                + ",\"env\":\"" + d.env() + "\"");
        if (d.owner() != null) {
            tags.append(",\"owner\":{\"name\":\"").append(d.owner()).append("\"}");
        }
        if (d.group() != null) {
            tags.append(",\"group\":\"").append(d.group()).append('"');
        }
        tags.append('}');
        hub.twins().update(d.id(), null, Json.parse("{\"tags\":" + tags + ",\"properties\":{\"desired\":{\"rate\":"
                + d.rate() + ",\"mode\":\"" + d.mode() + "\"}}}"), null);
        hub.twins().reportProperties(d.id(), null, Json.parse("{\"fw\":\"" + d.fw() + "\",\"temp\":"
                + d.temp() + ",\"ok\":" + d.ok() + ",\"nested\":{\"a\":{\"b\":" + d.nestedB() + "}}}"));
        if (d.hasModules()) {
            for (String m : List.of("m1", "m2")) {
                hub.registry().putModule(d.id(), m, new Module(d.id(), m, null, null, null, null), null);
                hub.twins().update(d.id(), m, Json.parse("{\"tags\":{\"kind\":\"mod-" + m + "\"}}"), null);
                hub.twins().reportProperties(d.id(), m, Json.parse("{\"state\":\"" + (d.i() % 2 == 0 ? "run" : "stop")
                        + "\"}"));
            }
        }
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    /** Runs a query through every page (page size {@code pageSize}), checking the paging headers on the way. */
    static List<JsonNode> run(String query, int pageSize) throws Exception {
        List<JsonNode> all = new ArrayList<>();
        String continuation = null;
        for (int pages = 0; pages < 1000; pages++) {
            Map<String, String> headers = new HashMap<>();
            headers.put("x-ms-max-item-count", Integer.toString(pageSize));
            if (continuation != null) {
                headers.put("x-ms-continuation", continuation);
            }
            RestClient.Reply reply = rest.owner("POST", "/devices/query",
                    Json.toString(Json.object().put("query", query)), headers);
            assertEquals(200, reply.status(), query + " -> " + reply.body());
            assertNotNull(reply.header("x-ms-item-type"));
            ArrayNode page = (ArrayNode) reply.json();
            assertTrue(page.size() <= pageSize, query);
            page.forEach(all::add);
            continuation = reply.header("x-ms-continuation");
            if (continuation == null || continuation.isEmpty()) {
                return all;
            }
        }
        throw new AssertionError("endless paging: " + query);
    }

    private static List<String> ids(List<JsonNode> twins) {
        return twins.stream().map(t -> t.get("deviceId").asText()
                + (t.has("moduleId") ? "/" + t.get("moduleId").asText() : "")).toList();
    }

    private static List<String> expectDevices(Predicate<Dev> p) {
        return fleet.stream().filter(p).map(Dev::id).sorted().toList();
    }

    private static List<String> expectModules(Predicate<Dev> device, String... modules) {
        List<String> out = new ArrayList<>();
        for (Dev d : fleet) {
            if (d.hasModules() && device.test(d)) {
                for (String m : modules) {
                    out.add(d.id() + "/" + m);
                }
            }
        }
        out.sort(null);
        return out;
    }

    @Test
    @Order(1)
    void twinQueriesMatchIndependentlyComputedResults() throws Exception {
        Map<String, List<String>> cases = new LinkedHashMap<>();
        String all = "SELECT * FROM devices";
        String w = all + " WHERE ";
        cases.put(all, expectDevices(d -> true));
        cases.put(w + "tags.building = 'b1'", expectDevices(d -> d.building().equals("b1")));
        cases.put(w + "tags.building != 'b1'", expectDevices(d -> !d.building().equals("b1")));
        cases.put(w + "tags.building <> 'b1'", expectDevices(d -> !d.building().equals("b1")));
        cases.put(w + "tags.floor > 3", expectDevices(d -> d.floor() > 3));
        cases.put(w + "tags.floor >= 3", expectDevices(d -> d.floor() >= 3));
        cases.put(w + "tags.floor < 2", expectDevices(d -> d.floor() < 2));
        cases.put(w + "tags.floor <= 2", expectDevices(d -> d.floor() <= 2));
        cases.put(w + "tags.floor = 3 AND tags.building = 'b2'",
                expectDevices(d -> d.floor() == 3 && d.building().equals("b2")));
        cases.put(w + "tags.floor = 3 OR tags.building = 'b2'",
                expectDevices(d -> d.floor() == 3 || d.building().equals("b2")));
        cases.put(w + "NOT (tags.env = 'prod')", expectDevices(d -> !d.env().equals("prod")));
        cases.put(w + "tags.building IN ['b1', 'b3']", expectDevices(d -> List.of("b1", "b3").contains(d.building())));
        cases.put(w + "tags.building NIN ['b1', 'b3']",
                expectDevices(d -> !List.of("b1", "b3").contains(d.building())));
        cases.put(w + "tags.building NOT IN ['b1', 'b3']",
                expectDevices(d -> !List.of("b1", "b3").contains(d.building())));
        cases.put(w + "IS_DEFINED(tags.owner)", expectDevices(d -> d.owner() != null));
        cases.put(w + "NOT IS_DEFINED(tags.owner)", expectDevices(d -> d.owner() == null));
        cases.put(w + "tags.owner.name = 'team2'", expectDevices(d -> "team2".equals(d.owner())));
        // a null in a patch deletes the key: those twins have no temp at all
        cases.put(w + "IS_NULL(properties.reported.temp)", expectDevices(d -> false));
        cases.put(w + "properties.reported.temp = null", expectDevices(d -> false));
        cases.put(w + "IS_DEFINED(properties.reported.temp)", expectDevices(d -> d.temp() != null));
        cases.put(w + "properties.reported.temp > 25", expectDevices(d -> d.temp() != null && d.temp() > 25));
        cases.put(w + "properties.reported.temp > 25 AND properties.reported.ok = true",
                expectDevices(d -> d.temp() != null && d.temp() > 25 && d.ok()));
        cases.put(w + "STARTSWITH(deviceId, 'dev-01')", expectDevices(d -> d.id().startsWith("dev-01")));
        cases.put(w + "ENDSWITH(deviceId, '7')", expectDevices(d -> d.id().endsWith("7")));
        cases.put(w + "STARTSWITH(properties.reported.fw, '1.')", expectDevices(d -> true));
        cases.put(w + "properties.reported.fw = '1.2'", expectDevices(d -> d.fw().equals("1.2")));
        cases.put(w + "IS_NUMBER(properties.reported.temp)", expectDevices(d -> d.temp() != null));
        cases.put(w + "IS_STRING(tags.building)", expectDevices(d -> true));
        cases.put(w + "IS_STRING(tags.floor)", expectDevices(d -> false));
        cases.put(w + "IS_BOOL(properties.reported.ok)", expectDevices(d -> true));
        cases.put(w + "IS_OBJECT(tags.owner)", expectDevices(d -> d.owner() != null));
        cases.put(w + "IS_PRIMITIVE(tags.floor)", expectDevices(d -> true));
        cases.put(w + "properties.reported.nested.a.b = 2", expectDevices(d -> d.nestedB() == 2));
        cases.put(w + "properties.desired.mode = 'auto' AND properties.desired.rate > 5",
                expectDevices(d -> d.mode().equals("auto") && d.rate() > 5));
        cases.put(w + "properties.desired.rate % 3 = 0", expectDevices(d -> d.rate() % 3 == 0));
        cases.put(w + "properties.desired.rate + tags.floor = 7", expectDevices(d -> d.rate() + d.floor() == 7));
        cases.put(w + "tags.floor * 2 - 1 > 6", expectDevices(d -> d.floor() * 2 - 1 > 6));
        cases.put(w + "status = 'disabled'", expectDevices(Dev::disabled));
        cases.put(w + "status = 'enabled' AND tags.env = 'test'",
                expectDevices(d -> !d.disabled() && d.env().equals("test")));
        cases.put(w + "deviceId = 'dev-042'", expectDevices(d -> d.id().equals("dev-042")));
        cases.put(w + "deviceId IN ['dev-001', 'dev-002', 'nosuch']",
                expectDevices(d -> d.id().equals("dev-001") || d.id().equals("dev-002")));
        cases.put(w + "tags.[[group]] = 'g1'", expectDevices(d -> "g1".equals(d.group())));
        cases.put(w + "devices.tags.building = 'b4'", expectDevices(d -> d.building().equals("b4")));
        cases.put(w + "TAGS.BUILDING = 'b0'", expectDevices(d -> d.building().equals("b0")));
        cases.put(w + "tags.building = \"b1\"", expectDevices(d -> d.building().equals("b1")));
        cases.put(w + "tags.floor = 0x3", expectDevices(d -> d.floor() == 3));
        cases.put(w + "tags.floor = 3.0", expectDevices(d -> d.floor() == 3));
        cases.put(w + "tags.floor = -1", expectDevices(d -> false));
        cases.put(w + "(tags.floor = 1 OR tags.floor = 2) AND NOT tags.env = 'prod'",
                expectDevices(d -> (d.floor() == 1 || d.floor() == 2) && !d.env().equals("prod")));
        cases.put(w + "tags.building = 'b1' OR properties.reported.fw = '1.3'",
                expectDevices(d -> d.building().equals("b1") || d.fw().equals("1.3")));
        cases.put(w + "tags.building = 'b1' OR properties.reported.temp < 18",
                expectDevices(d -> d.building().equals("b1") || (d.temp() != null && d.temp() < 18)));
        cases.put(w + "tags.nosuch = 1", expectDevices(d -> false));
        cases.put(w + "tags.building > 'b2'", expectDevices(d -> d.building().compareTo("b2") > 0));
        cases.put(w + "properties.reported.ok != true", expectDevices(d -> !d.ok()));
        cases.put(w + "properties.desired.$metadata.rate.$lastUpdatedVersion = 2", expectDevices(d -> true));
        cases.put(w + "properties.desired.$version = 2", expectDevices(d -> true));
        cases.put(w + "properties.reported.$version = 2", expectDevices(d -> true));
        cases.put(w + "tags.floor = '3'", expectDevices(d -> false));
        cases.put(w + "tags.building = 'b1' AND tags.building = 'b2'", expectDevices(d -> false));
        cases.put(w + "UPPER(tags.env) = 'PROD'", expectDevices(d -> d.env().equals("prod")));
        cases.put(w + "CONTAINS(properties.reported.fw, '.3')", expectDevices(d -> d.fw().contains(".3")));
        cases.put(w + "connectionState = 'Disconnected'", expectDevices(d -> true));
        cases.put(w + "tags.owner.name IN ['team0', 'team2'] AND tags.floor IN [0, 1, 2]",
                expectDevices(d -> d.owner() != null && List.of("team0", "team2").contains(d.owner())
                        && d.floor() <= 2));
        cases.put("select * from DEVICES where tags.env = 'prod' and tags.floor = 6",
                expectDevices(d -> d.env().equals("prod") && d.floor() == 6));
        cases.put(w + "tags.owner = 'team0'", expectDevices(d -> false));

        String mods = "SELECT * FROM devices.modules";
        cases.put(mods, expectModules(d -> true, "m1", "m2"));
        cases.put(mods + " WHERE properties.reported.state = 'run'", expectModules(d -> d.i() % 2 == 0, "m1", "m2"));
        cases.put(mods + " WHERE moduleId = 'm1'", expectModules(d -> true, "m1"));
        cases.put(mods + " WHERE deviceId = 'dev-005'", expectModules(d -> d.id().equals("dev-005"), "m1", "m2"));
        cases.put(mods + " WHERE tags.kind = 'mod-m2' AND deviceId IN ['dev-010', 'dev-015', 'dev-011']",
                expectModules(d -> d.id().equals("dev-010") || d.id().equals("dev-015"), "m2"));
        cases.put(mods + " WHERE devices.modules.tags.kind = 'mod-m1'", expectModules(d -> true, "m1"));

        int checked = 0;
        for (Map.Entry<String, List<String>> c : cases.entrySet()) {
            assertEquals(c.getValue(), ids(run(c.getKey(), 37)), c.getKey());
            checked++;
        }
        assertTrue(checked >= 60, "only " + checked + " queries");
    }

    @Test
    @Order(2)
    void projectionsTopAndAggregates() throws Exception {
        List<JsonNode> top = run("SELECT TOP 7 * FROM devices WHERE tags.env = 'prod'", 3);
        assertEquals(expectDevices(d -> d.env().equals("prod")).subList(0, 7), ids(top));

        List<JsonNode> rows = run("SELECT deviceId, tags.building FROM devices WHERE tags.floor = 6", 100);
        List<JsonNode> expected = fleet.stream().filter(d -> d.floor() == 6).map(d -> (JsonNode) Json.object()
                .put("deviceId", d.id()).put("building", d.building())).toList();
        assertEquals(expected, rows);

        List<JsonNode> undefinedLeftOut = run("SELECT deviceId, properties.reported.temp AS t FROM devices "
                + "WHERE NOT IS_DEFINED(properties.reported.temp)", 100);
        assertEquals(fleet.stream().filter(d -> d.temp() == null).map(d -> (JsonNode) Json.object()
                .put("deviceId", d.id())).toList(), undefinedLeftOut);

        assertEquals(FLEET, single(run("SELECT COUNT() AS n FROM devices", 10), "n"));
        assertEquals(fleet.stream().filter(d -> d.env().equals("prod")).count(),
                single(run("SELECT COUNT() AS n FROM devices WHERE tags.env = 'prod'", 10), "n"));
        assertEquals(2 * fleet.stream().filter(Dev::hasModules).count(),
                single(run("SELECT COUNT() AS numberOfModules FROM devices.modules", 10), "numberOfModules"));

        Map<String, Long> perBuilding = new TreeMap<>();
        run("SELECT tags.building AS building, COUNT() AS n FROM devices GROUP BY tags.building", 2)
                .forEach(r -> perBuilding.put(r.get("building").asText(), r.get("n").asLong()));
        assertEquals(new TreeMap<>(fleet.stream().collect(Collectors.groupingBy(Dev::building,
                Collectors.counting()))), perBuilding);

        Map<String, Long> perFirmware = new TreeMap<>();
        run("SELECT properties.reported.fw AS fw, COUNT() AS n FROM devices WHERE status = 'enabled' "
                + "GROUP BY properties.reported.fw", 100)
                .forEach(r -> perFirmware.put(r.get("fw").asText(), r.get("n").asLong()));
        assertEquals(new TreeMap<>(fleet.stream().filter(d -> !d.disabled()).collect(Collectors.groupingBy(Dev::fw,
                Collectors.counting()))), perFirmware);

        JsonNode stats = run("SELECT SUM(tags.floor) AS s, MAX(tags.floor) AS mx, MIN(properties.reported.temp) AS mn,"
                + " AVG(properties.desired.rate) AS a FROM devices", 10).get(0);
        assertEquals(fleet.stream().mapToInt(Dev::floor).sum(), stats.get("s").asLong());
        assertEquals(fleet.stream().mapToInt(Dev::floor).max().orElseThrow(), stats.get("mx").asInt());
        assertEquals(fleet.stream().filter(d -> d.temp() != null).mapToDouble(Dev::temp).min().orElseThrow(),
                stats.get("mn").asDouble());
        assertEquals(fleet.stream().mapToInt(Dev::rate).average().orElseThrow(), stats.get("a").asDouble(), 1e-9);
    }

    /** The one row's one field of an aggregate answer. */
    private static long single(List<JsonNode> rows, String field) {
        assertEquals(1, rows.size(), rows.toString());
        assertEquals(1, rows.get(0).size(), rows.toString());
        return rows.get(0).get(field).asLong();
    }

    @Test
    @Order(3)
    void syntaxErrorsAre400WithThePosition() throws Exception {
        Map<String, Integer> errors = new LinkedHashMap<>();
        errors.put("SELECT * FORM devices", 10);
        errors.put("SELECT * FROM devices WHERE", 28);
        errors.put("SELECT * FROM devices WHERE tags.x = 'abc", 38);
        errors.put("SELECT * FROM devices WHERE FOO(tags.x)", 29);
        errors.put("SELECT * FROM devices WHERE tags.x = = 1", 38);
        errors.put("SELECT * FROM devices WHERE (tags.x = 1", 40);
        errors.put("SELECT * FROM gadgets", 15);
        errors.put("SELECT * FROM devices WHERE tags.x IN 'a'", 39);
        errors.put("SELECT * FROM devices WHERE tags.x = 1 extra", 40);
        errors.put("SELECT * FROM devices WHERE tags.x = #", 38);
        for (Map.Entry<String, Integer> e : errors.entrySet()) {
            RestClient.Reply reply = rest.owner("POST", "/devices/query",
                    Json.toString(Json.object().put("query", e.getKey())));
            RegistryRestTest.assertError(reply, 400, 400004, "ArgumentInvalid");
            String message = Json.parse(reply.json().get("Message").asText()).get("message").asText();
            assertTrue(message.contains("position " + e.getValue() + ":"), e.getKey() + " -> " + message);
        }
        for (String invalid : List.of("", "SELECT * FROM devices GROUP BY tags.x",
                "SELECT deviceId, COUNT() AS n FROM devices GROUP BY tags.x", "SELECT * FROM devices.jobs")) {
            RestClient.Reply reply = rest.owner("POST", "/devices/query",
                    Json.toString(Json.object().put("query", invalid)));
            assertEquals(400, reply.status(), invalid);
        }
        assertEquals(400, rest.owner("POST", "/devices/query", "{\"query\":\"SELECT * FROM devices\"}",
                Map.of("x-ms-continuation", "garbage!")).status());
        assertEquals(400, rest.owner("POST", "/devices/query", "{\"query\":\"SELECT * FROM devices\"}",
                Map.of("x-ms-max-item-count", "0")).status());
    }

    @Test
    @Order(4)
    void theIndexFollowsTwinChangesAndDeletions() throws Exception {
        String query = "SELECT * FROM devices WHERE tags.building = 'b9'";
        assertEquals(List.of(), ids(run(query, 10)));
        hub.twins().update("dev-003", null, Json.parse("{\"tags\":{\"building\":\"b9\"}}"), null);
        assertEquals(List.of("dev-003"), ids(run(query, 10)));
        List<String> b3 = ids(run("SELECT * FROM devices WHERE tags.building = 'b3'", 10));
        assertTrue(!b3.contains("dev-003"), b3.toString());
        hub.registry().deleteDevice("dev-003", null);
        assertEquals(List.of(), ids(run(query, 10)));
        hub.registry().putDevice("dev-003", new Device("dev-003", null, null, null, null, null, null, false, null,
                null), null);
        assertEquals(List.of(), ids(run(query, 10)));
        JsonNode fresh = run("SELECT * FROM devices WHERE deviceId = 'dev-003'", 10).get(0);
        assertEquals(0, fresh.get("tags").size());
        assertNull(fresh.get("moduleId"));
    }

    @Test
    @Order(5)
    void deepOrLongQueriesGetIotHubsErrorNotAStackOverflow() throws Exception {
        // 4 KB of parentheses around one condition
        String nested = "SELECT * FROM devices WHERE " + "(".repeat(2000) + "deviceId = 'dev-001'"
                + ")".repeat(2000);
        RestClient.Reply deep = query(nested);
        RegistryRestTest.assertError(deep, 400, 400004, "ArgumentInvalid");
        assertTrue(deep.body().contains("nest deeper than 64 levels"), deep.body());
        // the nesting a real query uses is fine
        assertEquals(List.of("dev-001"), ids(run("SELECT * FROM devices WHERE " + "(".repeat(30)
                + "deviceId = 'dev-001'" + ")".repeat(30), 10)));
        // an arithmetic chain is a tree as deep as it is long
        RestClient.Reply sum = query("SELECT * FROM devices WHERE properties.reported.rate" + " + 0".repeat(100)
                + " = 1");
        RegistryRestTest.assertError(sum, 400, 400004, "ArgumentInvalid");

        // a long OR chain within the length limit is answered, and right
        List<String> wanted = new ArrayList<>();
        StringBuilder chain = new StringBuilder("SELECT * FROM devices WHERE ");
        for (int i = 0; i < FLEET; i++) {
            String id = String.format("dev-%03d", i);
            wanted.add(id);
            chain.append(i == 0 ? "" : " OR ").append("deviceId = '").append(id).append('\'');
        }
        assertTrue(chain.length() < 8192 && chain.length() > 4096, "length " + chain.length());
        assertEquals(wanted, ids(run(chain.toString(), 100)));
        // a long AND chain likewise
        assertEquals(List.of("dev-004"), ids(run("SELECT * FROM devices WHERE deviceId = 'dev-004'"
                + " AND tags.building = 'b4'".repeat(250), 10)));

        // anything longer than 8 KB is refused before it is parsed
        String tooLong = "SELECT * FROM devices WHERE deviceId = 'dev-004'" + " AND deviceId = 'dev-004'".repeat(400);
        assertTrue(tooLong.length() > 8192);
        RestClient.Reply longReply = query(tooLong);
        RegistryRestTest.assertError(longReply, 400, 400004, "ArgumentInvalid");
        assertTrue(longReply.body().contains("at most 8192"), longReply.body());
    }

    private static RestClient.Reply query(String text) throws Exception {
        return rest.owner("POST", "/devices/query", Json.toString(Json.object().put("query", text)));
    }
}
