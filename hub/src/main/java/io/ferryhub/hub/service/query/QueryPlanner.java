package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.hub.service.query.QueryAst.Binary;
import io.ferryhub.hub.service.query.QueryAst.Collection;
import io.ferryhub.hub.service.query.QueryAst.Expr;
import io.ferryhub.hub.service.query.QueryAst.In;
import io.ferryhub.hub.service.query.QueryAst.Literal;
import io.ferryhub.hub.service.query.QueryAst.Path;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Chooses where a query's candidates come from. Equalities (and IN lists) on {@code deviceId} or on a twin-owned
 * path become point lookups; AND takes the smaller side (or intersects), OR unions two answerable sides. Anything
 * else means a scan. The answer is a superset: WHERE is still evaluated on every candidate.
 */
final class QueryPlanner {
    private final TwinIndex index;
    private final RegistryService registry;

    QueryPlanner(TwinIndex index, RegistryService registry) {
        this.index = index;
        this.registry = registry;
    }

    /** The candidate twins in id order, or null when only a scan can answer. */
    SortedSet<TwinRef> plan(Expr where, Collection from) {
        if (where instanceof Binary b) {
            switch (b.op()) {
                case "=" -> {
                    if (b.left() instanceof Path p && b.right() instanceof Literal l) {
                        return equality(p, l.value(), from);
                    }
                    if (b.right() instanceof Path p && b.left() instanceof Literal l) {
                        return equality(p, l.value(), from);
                    }
                    return null;
                }
                case "AND" -> {
                    SortedSet<TwinRef> left = plan(b.left(), from);
                    SortedSet<TwinRef> right = plan(b.right(), from);
                    if (left == null || right == null) {
                        return left != null ? left : right;
                    }
                    SortedSet<TwinRef> small = left.size() <= right.size() ? left : right;
                    SortedSet<TwinRef> out = new TreeSet<>(small);
                    out.retainAll(small == left ? right : left);
                    return out;
                }
                case "OR" -> {
                    SortedSet<TwinRef> left = plan(b.left(), from);
                    SortedSet<TwinRef> right = left == null ? null : plan(b.right(), from);
                    if (left == null || right == null) {
                        return null;
                    }
                    left.addAll(right);
                    return left;
                }
                default -> {
                    return null;
                }
            }
        }
        if (where instanceof In in && !in.negated() && in.value() instanceof Path p) {
            SortedSet<TwinRef> out = new TreeSet<>();
            for (Expr candidate : in.candidates()) {
                if (!(candidate instanceof Literal l)) {
                    return null;
                }
                SortedSet<TwinRef> one = equality(p, l.value(), from);
                if (one == null) {
                    return null;
                }
                out.addAll(one);
            }
            return out;
        }
        return null;
    }

    private SortedSet<TwinRef> equality(Path path, JsonNode value, Collection from) {
        List<String> relative = TwinPaths.relative(path, from);
        if (value == null) {
            return new TreeSet<>(); // = undefined is never true
        }
        if (relative.size() == 1 && relative.get(0).equalsIgnoreCase("deviceId")) {
            SortedSet<TwinRef> out = new TreeSet<>();
            if (!value.isTextual() || registry.findDevice(value.textValue()).isEmpty()) {
                return out;
            }
            if (from == Collection.DEVICES) {
                out.add(new TwinRef(value.textValue(), null));
            } else {
                for (Module m : registry.modules(value.textValue())) {
                    out.add(new TwinRef(m.deviceId(), m.moduleId()));
                }
            }
            return out;
        }
        if (TwinPaths.indexable(relative) && TwinIndex.indexableValue(value)) {
            SortedSet<TwinRef> out = new TreeSet<>();
            for (TwinRef ref : index.lookup(TwinPaths.indexKey(relative), value)) {
                if ((ref.moduleId() == null) == (from == Collection.DEVICES)) {
                    out.add(ref);
                }
            }
            return out;
        }
        return null;
    }
}
