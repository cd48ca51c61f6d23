// The DAG of a workflow, laid out by dagre (loaded as /ui/vendor/dagre.js) and drawn as SVG; each task coloured by its
// status. A fan-out task is one node with a progress bar of its elements.
import { useMemo } from 'preact/hooks'
import { html } from './lib.js'

const NODE_W = 168
const NODE_H = 46

/** Positions of the tasks and edges: computed again only when the tasks change, not on every status change. */
function layout(tasks) {
  const g = new window.dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 46, marginx: 8, marginy: 8 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const task of tasks) g.setNode(task.id, { width: NODE_W, height: NODE_H })
  for (const task of tasks) for (const dep of task.depends_on ?? []) if (g.hasNode(dep)) g.setEdge(dep, task.id)
  window.dagre.layout(g)
  const nodes = g.nodes().map((id) => ({ id, ...g.node(id) }))
  const edges = g.edges().map((e) => ({ from: e.v, to: e.w, points: g.edge(e).points }))
  const { width, height } = g.graph()
  return { nodes, edges, width: Math.max(width, NODE_W), height: Math.max(height, NODE_H) }
}

const path = (points) => points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')

/**
 * tasks: the definition's tasks; rows: task rows by id (status, items) or undefined for a bare workflow;
 * selected: a Set of task ids; onSelect(id, additive).
 */
export function Dag({ tasks, rows, selected, onSelect }) {
  const key = tasks.map((t) => `${t.id}<${(t.depends_on ?? []).join(',')}`).join(';')
  const shape = useMemo(() => layout(tasks), [key])
  const byId = new Map(tasks.map((t) => [t.id, t]))
  return html`<div class="dag-wrap">
    <svg class="dag" viewBox=${`0 0 ${shape.width} ${shape.height}`} width=${shape.width} height=${shape.height} role="img" aria-label="workflow graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      ${shape.edges.map((e) => html`<path class="edge" d=${path(e.points)} marker-end="url(#arrow)" />`)}
      ${shape.nodes.map((n) => {
        const task = byId.get(n.id)
        const row = rows?.[n.id]
        const status = row?.status ?? (rows ? 'pending' : 'definition')
        const items = row?.items
        const fanOut = task?.for_each !== undefined
        const done = items ? items.completed + items.failed : 0
        const x = n.x - NODE_W / 2
        const y = n.y - NODE_H / 2
        return html`<g
          class=${`node st-${status}${selected?.has(n.id) ? ' selected' : ''}`}
          data-task-id=${n.id}
          data-status=${status}
          transform=${`translate(${x},${y})`}
          onClick=${(e) => onSelect?.(n.id, e.shiftKey || e.ctrlKey || e.metaKey)}
        >
          <title>${`${n.id}: ${status}`}</title>
          <rect width=${NODE_W} height=${NODE_H} rx="7" />
          <text x="10" y="18" class="node-id">${n.id.length > 20 ? `${n.id.slice(0, 19)}…` : n.id}</text>
          <text x="10" y="34" class="node-sub">${fanOut && items ? `fan-out ${done}/${items.total}` : `${task?.component ?? ''}.${task?.action ?? ''}`}</text>
          ${fanOut && items && items.total > 0
            ? html`<rect class="progress-bg" x="10" y="39" width=${NODE_W - 20} height="3" />
                <rect class="progress" x="10" y="39" width=${((NODE_W - 20) * done) / items.total} height="3" />`
            : null}
        </g>`
      })}
    </svg>
  </div>`
}
