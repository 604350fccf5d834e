package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.query.QueryAst.Aggregate;
import io.ferryhub.hub.service.query.QueryAst.Collection;
import io.ferryhub.hub.service.query.QueryAst.Path;
import io.ferryhub.hub.service.query.QueryAst.Projection;
import io.ferryhub.hub.service.query.QueryAst.Query;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.service.twin.TwinService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;

/**
 * IoT Hub's query language over device and module twins: parses the query, plans where its candidates come from
 * ({@link QueryPlanner}: the equality index or a scan of the registry in id order), evaluates WHERE on each
 * candidate, projects or aggregates, and pages with a continuation token.
 */
public final class QueryService {
    private static final Logger log = LoggerFactory.getLogger(QueryService.class);
    public static final int DEFAULT_PAGE_SIZE = 100;
    public static final int MAX_PAGE_SIZE = 1000;

    /** One page of results; {@code continuation} is null on the last page; {@code itemType} for x-ms-item-type. */
    public record Page(List<JsonNode> items, String continuation, String itemType) {
    }

    private final TwinService twins;
    private final RegistryService registry;
    private final TwinIndex index = new TwinIndex();
    private final QueryPlanner planner;

    public QueryService(TwinService twins, RegistryService registry) {
        this.twins = twins;
        this.registry = registry;
        this.planner = new QueryPlanner(index, registry);
        twins.addListener(index);
        long started = System.nanoTime();
        int[] count = {0};
        twins.forEachStored(t -> {
            index.put(new TwinRef(t.deviceId(), t.moduleId()), t.twin());
            count[0]++;
        });
        log.info("twin query index built over {} stored twins in {} ms", count[0],
                (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Runs a query.
     *
     * @param pageSize     x-ms-max-item-count (null = {@value #DEFAULT_PAGE_SIZE})
     * @param continuation the previous page's token, or null for the first page
     */
    public Page query(String text, Integer pageSize, String continuation) {
        Query query = QueryParser.parse(text);
        checkSemantics(query);
        int size = pageSize == null ? DEFAULT_PAGE_SIZE : pageSize;
        if (size < 1 || size > MAX_PAGE_SIZE) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "x-ms-max-item-count must be between 1 and "
                    + MAX_PAGE_SIZE + ", not " + size);
        }
        ObjectNode token = decode(continuation);
        return query.isAggregate() ? aggregatePage(query, size, token) : rowPage(query, size, token);
    }

    private Page rowPage(Query query, int pageSize, ObjectNode token) {
        int emitted = token.path("n").asInt(0);
        TwinRef after = token.hasNonNull("d") ? new TwinRef(token.get("d").asText(),
                token.hasNonNull("m") ? token.get("m").asText() : null) : null;
        int limit = pageSize;
        if (query.top() != null) {
            limit = Math.min(limit, query.top() - emitted);
        }
        String itemType = query.projections().isEmpty() ? "twin" : "raw";
        List<JsonNode> out = new ArrayList<>();
        if (limit <= 0) {
            return new Page(out, null, itemType);
        }
        TwinRef last = null;
        boolean more = false;
        Iterator<TwinCandidates.Candidate> candidates = candidates(query, after);
        while (candidates.hasNext()) {
            TwinCandidates.Candidate c = candidates.next();
            if (!QueryEvaluator.matches(query.where(), c.twin(), query.from())) {
                continue;
            }
            if (out.size() == limit) {
                more = true;
                break;
            }
            out.add(project(query, c.twin()));
            last = c.ref();
        }
        if (query.top() != null && emitted + out.size() >= query.top()) {
            more = false;
        }
        String next = null;
        if (more) {
            ObjectNode t = Json.object().put("d", last.deviceId()).put("n", emitted + out.size());
            if (last.moduleId() != null) {
                t.put("m", last.moduleId());
            }
            next = encode(t);
        }
        return new Page(out, next, itemType);
    }

    private Page aggregatePage(Query query, int pageSize, ObjectNode token) {
        Aggregation aggregation = new Aggregation(query);
        Iterator<TwinCandidates.Candidate> candidates = candidates(query, null);
        while (candidates.hasNext()) {
            TwinCandidates.Candidate c = candidates.next();
            if (QueryEvaluator.matches(query.where(), c.twin(), query.from())) {
                aggregation.add(c.twin());
            }
        }
        List<JsonNode> rows = aggregation.rows();
        if (query.top() != null && rows.size() > query.top()) {
            rows = rows.subList(0, query.top());
        }
        int offset = Math.min(token.path("o").asInt(0), rows.size());
        int end = Math.min(rows.size(), offset + pageSize);
        String next = end < rows.size() ? encode(Json.object().put("o", end)) : null;
        return new Page(new ArrayList<>(rows.subList(offset, end)), next, "raw");
    }

    private Iterator<TwinCandidates.Candidate> candidates(Query query, TwinRef after) {
        SortedSet<TwinRef> planned = planner.plan(query.where(), query.from());
        if (planned != null) {
            return TwinCandidates.of(twins, planned, query.from(), after);
        }
        return TwinCandidates.scan(twins, registry, query.from(), after);
    }

    private static JsonNode project(Query query, JsonNode twin) {
        if (query.projections().isEmpty()) {
            return twin;
        }
        ObjectNode row = Json.object();
        for (Projection p : query.projections()) {
            JsonNode v = QueryEvaluator.eval(p.expr(), twin, query.from());
            if (v != null) {
                row.set(p.alias(), v);
            }
        }
        return row;
    }

    private static void checkSemantics(Query query) {
        if (query.top() != null && query.top() < 0) {
            throw QuerySyntax.invalid("TOP must not be negative");
        }
        if (!query.isAggregate()) {
            return;
        }
        if (query.projections().isEmpty()) {
            throw QuerySyntax.invalid("SELECT * cannot be combined with GROUP BY");
        }
        for (Projection p : query.projections()) {
            if (p.expr() instanceof Aggregate) {
                continue;
            }
            boolean grouped = p.expr() instanceof Path path && query.groupBy().stream()
                    .anyMatch(g -> g.dotted().equalsIgnoreCase(path.dotted()));
            if (!grouped) {
                throw QuerySyntax.invalid("in an aggregate query every projection that is not an aggregate must "
                        + "be one of the GROUP BY properties");
            }
        }
    }

    private static String encode(ObjectNode token) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Json.toBytes(token));
    }

    private static ObjectNode decode(String continuation) {
        if (continuation == null || continuation.isBlank()) {
            return Json.object();
        }
        try {
            JsonNode node = Json.parse(new String(Base64.getUrlDecoder().decode(continuation.trim()),
                    StandardCharsets.UTF_8));
            if (node instanceof ObjectNode o) {
                return o;
            }
        } catch (IllegalArgumentException e) {
            // falls through to the error below
        }
        throw new HubException(HubErrorCode.ArgumentInvalid, "x-ms-continuation is not a token this hub issued");
    }

    /** GROUP BY and aggregate functions, groups in the order their first twin came. */
    private static final class Aggregation {
        private final Query query;
        private final Map<List<JsonNode>, Group> groups = new LinkedHashMap<>();

        Aggregation(Query query) {
            this.query = query;
        }

        private final class Group {
            final JsonNode first;
            final Accumulator[] accumulators = new Accumulator[query.projections().size()];

            Group(JsonNode first) {
                this.first = first;
                for (int i = 0; i < accumulators.length; i++) {
                    if (query.projections().get(i).expr() instanceof Aggregate a) {
                        accumulators[i] = new Accumulator(a);
                    }
                }
            }
        }

        void add(JsonNode twin) {
            List<JsonNode> key = new ArrayList<>();
            for (Path p : query.groupBy()) {
                JsonNode v = QueryEvaluator.eval(p, twin, query.from());
                key.add(v == null ? MissingNode.getInstance() : v);
            }
            Group group = groups.computeIfAbsent(key, k -> new Group(twin));
            for (Accumulator a : group.accumulators) {
                if (a != null) {
                    a.add(twin, query.from());
                }
            }
        }

        List<JsonNode> rows() {
            if (groups.isEmpty() && query.groupBy().isEmpty()) {
                groups.put(List.of(), new Group(Json.object()));
            }
            List<JsonNode> rows = new ArrayList<>();
            for (Group g : groups.values()) {
                ObjectNode row = Json.object();
                for (int i = 0; i < query.projections().size(); i++) {
                    Projection p = query.projections().get(i);
                    JsonNode v = g.accumulators[i] != null ? g.accumulators[i].result()
                            : QueryEvaluator.eval(p.expr(), g.first, query.from());
                    if (v != null) {
                        row.set(p.alias(), v);
                    }
                }
                rows.add(row);
            }
            return rows;
        }
    }

    private static final class Accumulator {
        private final Aggregate aggregate;
        private long count;
        private double sum;
        private boolean allIntegral = true;
        private JsonNode best;

        Accumulator(Aggregate aggregate) {
            this.aggregate = aggregate;
        }

        void add(JsonNode twin, Collection from) {
            if (aggregate.argument() == null) {
                count++;
                return;
            }
            JsonNode v = QueryEvaluator.eval(aggregate.argument(), twin, from);
            if (v == null) {
                return;
            }
            switch (aggregate.function()) {
                case "SUM", "AVG" -> {
                    if (v.isNumber()) {
                        sum += v.doubleValue();
                        allIntegral &= v.isIntegralNumber();
                        count++;
                    }
                }
                default -> {
                    boolean numeric = v.isNumber();
                    if (!numeric && !v.isTextual()) {
                        return;
                    }
                    if (best == null || (best.isNumber() != numeric ? numeric
                            : better(v, best, aggregate.function().equals("MIN")))) {
                        best = v;
                    }
                }
            }
        }

        private static boolean better(JsonNode v, JsonNode current, boolean min) {
            int cmp = v.isNumber() ? Double.compare(v.doubleValue(), current.doubleValue())
                    : v.textValue().compareTo(current.textValue());
            return min ? cmp < 0 : cmp > 0;
        }

        JsonNode result() {
            var nodes = Json.MAPPER.getNodeFactory();
            return switch (aggregate.function()) {
                case "COUNT" -> nodes.numberNode(count);
                case "SUM" -> allIntegral && Math.abs(sum) < 9.0e15 ? nodes.numberNode((long) sum)
                        : nodes.numberNode(sum);
                case "AVG" -> count == 0 ? null : nodes.numberNode(sum / count);
                default -> best;
            };
        }
    }
}
