// The neighbourhood of an entity, drawn with Cytoscape.js (vendored): the
// entity in the middle, its relations around it; a click on a node opens
// that entity.

import cytoscape from './vendor/cytoscape.esm.min.js';

const dark = () => matchMedia('(prefers-color-scheme: dark)').matches;

export function drawGraph(container, data, onPick) {
  const ink = dark() ? '#e6e8ee' : '#1d2330';
  const line = dark() ? '#6b7488' : '#9aa3b5';
  const elements = [
    ...data.nodes.map((n) => ({ data: { id: n.name, label: n.name, type: n.entityType, center: n.name === data.center } })),
    ...data.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.from, target: e.to, label: e.relationType } })),
  ];
  const cy = cytoscape({
    container,
    elements,
    layout: { name: 'preset' },
    minZoom: 0.2,
    maxZoom: 3,
    wheelSensitivity: 0.3,
    boxSelectionEnabled: false,
    style: [
      { selector: 'node', style: {
        'background-color': '#3b6fd8', label: 'data(label)', color: ink, 'font-size': 11,
        'text-valign': 'bottom', 'text-margin-y': 4, width: 18, height: 18,
        'text-wrap': 'ellipsis', 'text-max-width': 120 } },
      { selector: 'node[?center]', style: { 'background-color': '#e0793b', width: 26, height: 26, 'font-weight': 'bold' } },
      { selector: 'edge', style: {
        width: 1.5, 'line-color': line, 'target-arrow-color': line, 'target-arrow-shape': 'triangle',
        'curve-style': 'bezier', label: 'data(label)', 'font-size': 9, color: line,
        'text-rotation': 'autorotate', 'text-background-opacity': 0 } },
      { selector: 'node:active, node:selected', style: { 'overlay-opacity': 0.15 } },
    ],
  });
  const layout = cy.layout({ name: data.nodes.length > 60 ? 'concentric' : 'cose', animate: false,
    padding: 20, nodeDimensionsIncludeLabels: true, randomize: false });
  // Fitting two or three nodes would blow them up to fill the box.
  layout.one('layoutstop', () => {
    if (cy.zoom() > 1.3) {
      cy.zoom(1.3);
      cy.center();
    }
  });
  layout.run();
  cy.on('tap', 'node', (event) => {
    const name = event.target.id();
    if (name !== data.center) onPick(name);
  });
  return cy;
}
