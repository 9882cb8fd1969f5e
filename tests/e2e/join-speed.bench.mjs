// The join-speed benchmark (bench/join.sh), not a test: it asserts no time, and the normal
// run never picks it up (bench.config.mjs selects *.bench.mjs). Over BENCH_JOIN_RUNS
// consultations, each booked afresh, it walks the patient's and the clinician's journey
// with the shared steps of lib/consultation.mjs and stamps, inside the pages
// (lib/timing.mjs), how long
//   - the patient's pre-call check takes to be ready, their typing aside: the link's page
//     loading, the check page loading, and from pressing "Start the check" until the camera
//     preview shows a frame and the check's verdict says "Connected over …";
//   - from the clinician pressing the final "Admit" until the first video frame of the
//     other side is presented (decoded and handed to the screen), on the patient's page
//     and on the clinician's call page.
// The samples go to $BENCH_JOIN_SAMPLES as JSON, for bench/join.sh to summarise.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from './lib/fixtures.mjs';
import {
  book, completeChecklist, enterDetails, invitationLink, joinAsClinician, patientPage, setUpPractice, startCheck, waitingEntry, watch,
} from './lib/consultation.mjs';
import { outDir } from './lib/server.mjs';
import { admitStamp, checkStamps, firstFrame, pageLoad, stampAdmit, watchCheck, watchFirstFrame } from './lib/timing.mjs';

const RUNS = Number(process.env.BENCH_JOIN_RUNS || 5);
const PRACTICE = {
  org: 'Larkfield Surgery',
  clinic: 'Physiotherapy',
  admin: { name: 'Nadia Osei', email: 'nadia.osei@larkfield.example.org', initial: 'copper lagoon tinsel orbit', password: 'willow parsnip gravel comet' },
  clinician: { name: 'Owen Pryce', email: 'owen.pryce@larkfield.example.org', initial: 'fennel harbour crystal mango', password: 'violet summit pebble tractor' },
};
const PATIENT = { name: 'Edith Harper', dob: ['3', '9', '1947'], email: 'edith.harper@example.org' };

/** Milliseconds from `from` to `to`, to a tenth; null when either is missing. */
const span = (from, to) => (from && to ? Math.round((to - from) * 10) / 10 : null);

test('join speed: pre-call check ready, and admission to the first video frame on both sides', async ({ browser }) => {
  test.setTimeout(120_000 + RUNS * 60_000);
  const errors = [];
  const details = watch(await setUpPractice(browser, PRACTICE), 'clinician', errors);
  const samples = [];
  for (let run = 1; run <= RUNS; run++) {
    const consultation = await book(details, { clinic: PRACTICE.clinic, clinician: PRACTICE.clinician.name, patient: PATIENT });
    const link = await invitationLink(consultation);

    const patient = await patientPage(browser, errors);
    await patient.goto(link);
    const landing = await patient.evaluate(pageLoad);
    await enterDetails(patient, PATIENT);
    const checkPage = await patient.evaluate(pageLoad);
    await patient.evaluate(watchCheck);
    await startCheck(patient);
    await expect.poll(() => patient.evaluate(checkStamps).then((c) => c.preview !== null && c.verdict !== null), { message: 'preview and verdict stamped' }).toBe(true);
    const check = await patient.evaluate(checkStamps);

    const clinician = watch(await details.context().newPage(), 'clinician', errors);
    await joinAsClinician(clinician, consultation);
    await patient.evaluate(watchFirstFrame);
    await clinician.evaluate(watchFirstFrame);
    const entry = await waitingEntry(details, consultation, PATIENT.name);
    await entry.getByRole('link', { name: 'Check identity and admit' }).click();
    await details.evaluate(stampAdmit);
    await completeChecklist(details);
    const seen = async (page) => (await page.evaluate(firstFrame))?.presented != null;
    await expect.poll(async () => (await seen(patient)) && (await seen(clinician)), { timeout: 20_000, message: 'a first frame on both sides' }).toBe(true);
    const admit = await details.evaluate(admitStamp);
    const [p, c] = [await patient.evaluate(firstFrame), await clinician.evaluate(firstFrame)];

    const ready = Math.max(check.preview, check.verdict);
    const sample = {
      run,
      linkPageMs: span(landing.start, landing.ready),
      checkPageMs: span(checkPage.start, checkPage.ready),
      startToPreviewMs: span(check.start, check.preview),
      startToVerdictMs: span(check.start, check.verdict),
      // The three waits the patient sees, their typing between them aside.
      precallReadyMs: Math.round((landing.ready - landing.start + (checkPage.ready - checkPage.start) + (ready - check.start)) * 10) / 10,
      admitToPatientStageMs: span(admit, p.admitted),
      admitToPatientReceivedMs: span(admit, p.received),
      admitToPatientFrameMs: span(admit, p.presented),
      admitToClinicianReceivedMs: span(admit, c.received),
      admitToClinicianFrameMs: span(admit, c.presented),
    };
    samples.push(sample);
    console.log(`join run ${run}/${RUNS}: ${JSON.stringify(sample)}`);

    await clinician.getByRole('button', { name: 'End consultation for everyone' }).click();
    await expect(patient.locator('#call')).toHaveAttribute('data-state', 'ended');
    await patient.context().close();
    await clinician.close();
  }
  writeFileSync(process.env.BENCH_JOIN_SAMPLES || path.join(outDir, 'join-samples.json'), JSON.stringify({ samples, errors }, null, 2));
});
