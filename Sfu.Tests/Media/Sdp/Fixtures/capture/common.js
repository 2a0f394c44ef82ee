async function capture(setup) {
  const pc = new RTCPeerConnection({iceServers: []});
  await setup(pc);
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await new Promise(r => { if (pc.iceGatheringState === 'complete') r(); pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') r(); }; setTimeout(r, 3000); });
  const pre = document.createElement('pre'); pre.id = 'sdp';
  pre.textContent = btoa(pc.localDescription.sdp);
  document.body.appendChild(pre);
}
